import { durationMs, type Policy } from './policy';
import { SEVERITIES, type Severity } from './severity';
import { SEGMENTS, type Segment } from './state';

/** The playbook's four escalation metrics and their targets. */
export const METRIC_TARGETS = {
  acknowledgeWithinSeconds: 3600,
  csatAtLeast: 7,
  churnRateBelow: 0.05,
} as const;

/** One case as the reports see it (read from visibility). */
export interface CaseFacts {
  severity: Severity;
  segment: Segment;
  ackSeconds: number | null;
  resolutionSeconds: number | null;
  csat: number | null;
  outcome: 'renewed' | 'churned' | null;
  breachKinds: string[];
  /** Seconds the customer-facing clocks were paused (pauses that ended). */
  pausedSeconds: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

const share = (n: number, of: number) => (of === 0 ? null : Math.round((n / of) * 1000) / 1000);
const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

function durations(values: number[], withinSeconds: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Minutes: round1(percentile(sorted, 50) === null ? null : percentile(sorted, 50)! / 60),
    p90Minutes: round1(percentile(sorted, 90) === null ? null : percentile(sorted, 90)! / 60),
    withinTarget: share(sorted.filter((s) => s <= withinSeconds).length, sorted.length),
  };
}

export function escalationMetrics(cases: CaseFacts[], policy: Policy) {
  const ackTarget = Math.round(durationMs(policy.acknowledgeWithin) / 1000);
  const acks = cases.flatMap((c) => (c.ackSeconds === null ? [] : [c.ackSeconds]));
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s) => {
      const window = policy.respondWithin[s];
      const resolved = cases.filter((c) => c.severity === s && c.resolutionSeconds !== null);
      const within = Math.round(durationMs(window) / 1000);
      const total = resolved.reduce((n, c) => n + c.resolutionSeconds!, 0);
      const paused = resolved.reduce((n, c) => n + Math.min(c.pausedSeconds, c.resolutionSeconds!), 0);
      return [
        s,
        {
          window,
          // Wall-clock time to resolution, paused time included: a pause cannot hide a slow case.
          ...durations(resolved.map((c) => c.resolutionSeconds!), within),
          excludingPaused: durations(resolved.map((c) => c.resolutionSeconds! - Math.min(c.pausedSeconds, c.resolutionSeconds!)), within),
          pausedShare: total === 0 ? null : Math.round((paused / total) * 1000) / 1000,
        },
      ];
    }),
  ) as Record<Severity, { window: string; excludingPaused: ReturnType<typeof durations>; pausedShare: number | null } & ReturnType<typeof durations>>;
  const scores = cases.flatMap((c) => (c.csat === null ? [] : [c.csat]));
  const decided = cases.filter((c) => c.outcome !== null);
  const churned = decided.filter((c) => c.outcome === 'churned').length;
  const breaches: Record<string, number> = {};
  for (const kind of cases.flatMap((c) => c.breachKinds)) breaches[kind] = (breaches[kind] ?? 0) + 1;
  return {
    cases: cases.length,
    timeToAcknowledge: { target: policy.acknowledgeWithin, ...durations(acks, ackTarget) },
    timeToResolution: { bySeverity },
    csat: {
      target: METRIC_TARGETS.csatAtLeast,
      responses: scores.length,
      average: scores.length ? round1(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
      atOrAboveTarget: share(scores.filter((x) => x >= METRIC_TARGETS.csatAtLeast).length, scores.length),
    },
    churn: { target: METRIC_TARGETS.churnRateBelow, decided: decided.length, churned, rate: share(churned, decided.length) },
    breaches: { total: Object.values(breaches).reduce((a, b) => a + b, 0), byKind: breaches },
  };
}
export type EscalationMetrics = ReturnType<typeof escalationMetrics>;


/** The metrics over all cases, and again by segment and by severity. */
export function escalationReport(cases: CaseFacts[], policy: Policy) {
  const by = <K extends string>(keys: readonly K[], pick: (c: CaseFacts) => string) =>
    Object.fromEntries(keys.map((k) => [k, escalationMetrics(cases.filter((c) => pick(c) === k), policy)])) as Record<K, EscalationMetrics>;
  return {
    ...escalationMetrics(cases, policy),
    bySegment: by(SEGMENTS, (c) => c.segment),
    bySeverity: by(SEVERITIES, (c) => c.severity),
  };
}
