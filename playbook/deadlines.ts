/**
 * Deadlines and timer points: derived from the case every time, never stored. Each point has a key,
 * so a warning, breach or reminder happens once; only the keys of points that can still come up are kept.
 */
import { durationMs, warnOffsetMs } from './policy';
import { after, before } from './windows';
import { iso, t, type CaseState, type DeadlineKind, type Stage } from './state';

export interface Deadline {
  kind: DeadlineKind;
  startAt: number;
  dueAt: number;
  /** Missing it is recorded as a breach and the next level is told; otherwise the owner is only reminded. */
  breachable: boolean;
  /** When the owner is warned before `dueAt`, or null for no warning. */
  warnAt: number | null;
}

export const DEADLINE_LABELS: Readonly<Record<DeadlineKind, string>> = {
  acknowledge: 'acknowledge the customer',
  respond: 'first progress update',
  next_update: 'next promised update',
  resolve: 'resolution (then the CSM manager is pulled in)',
  confirmation: "customer's confirmation of the fix",
  follow_up: 'follow-up 24–48h after resolution',
  recovery_call: 'personal recovery call',
  health_check: 'health check call',
  qbr_review: 'reference the incident at the next QBR',
  outcome: 'record the renewal outcome',
};

const BEFORE_RESOLUTION: readonly Stage[] = ['acknowledge', 'investigate', 'communicate'];

function deadline(state: CaseState, kind: DeadlineKind, startAt: number, dueAt: number, breachable = true): Deadline {
  const warnAt = before(state, 'warn', dueAt, warnOffsetMs(state.policy, Math.max(0, dueAt - startAt)));
  return { kind, startAt, dueAt, breachable, warnAt: warnAt > startAt && warnAt < dueAt ? warnAt : null };
}

/** When the first progress update is due: the severity's respond window from the opening. */
export function respondDue(state: CaseState): number {
  return after(state, 'respond', t(state.openedAt), state.policy.respondWithin[state.severity]);
}

/** The deadlines still open on a case, earliest first. */
export function openDeadlines(state: CaseState): Deadline[] {
  if (state.status === 'closed') return [];
  const p = state.policy;
  const opened = t(state.openedAt);
  const out: Deadline[] = [];
  if (!state.acknowledgedAt) out.push(deadline(state, 'acknowledge', opened, after(state, 'acknowledge', opened, p.acknowledgeWithin)));
  if (!state.firstResponseAt) out.push(deadline(state, 'respond', opened, respondDue(state)));
  if (state.firstResponseAt && state.lastUpdateAt && state.stage === 'communicate') {
    const last = t(state.lastUpdateAt);
    const due = state.promisedUpdateAt ? t(state.promisedUpdateAt) : after(state, 'next_update', last, p.updateEvery[state.severity]);
    out.push(deadline(state, 'next_update', last, due));
  }
  if (BEFORE_RESOLUTION.includes(state.stage) && !state.internalEscalations.some((e) => e.trigger === 'unresolved')) {
    out.push(deadline(state, 'resolve', opened, after(state, 'resolve', opened, p.escalateUnresolvedAfter), false));
  }
  if (state.stage === 'resolve' && state.resolvedAt) {
    const resolved = t(state.resolvedAt);
    out.push(deadline(state, 'confirmation', resolved, after(state, 'confirmation', resolved, p.followUpWithin), false));
  }
  if (state.confirmedAt) {
    const confirmed = t(state.confirmedAt);
    for (const x of state.tasks) {
      if (x.doneAt) continue;
      const d = deadline(state, x.kind, confirmed, t(x.dueAt));
      if (x.kind === 'qbr_review') d.warnAt = Math.max(confirmed, before(state, 'qbr_reminder', d.dueAt, p.qbrReminderBefore));
      if (x.kind === 'follow_up') d.warnAt = null; // it goes out by itself at followUpAfter
      out.push(d);
    }
  }
  const renewal = state.input.customer.renewalDate;
  if (renewal && !state.outcome && state.confirmedAt) {
    out.push({ kind: 'outcome', startAt: t(state.confirmedAt), dueAt: t(renewal), breachable: false, warnAt: null });
  }
  return out.sort((a, b) => a.dueAt - b.dueAt);
}

export type PointType = 'warn' | 'due' | 'remind' | 'auto_follow_up';
export interface Point { key: string; at: number; type: PointType; deadline: Deadline; n?: number }

const ORDER: Record<PointType, number> = { auto_follow_up: 0, warn: 1, due: 2, remind: 3 };

/** Every timer point of the open deadlines, fired or not. */
function allPoints(state: CaseState): Point[] {
  const p = state.policy;
  const out: Point[] = [];
  for (const d of openDeadlines(state)) {
    const id = `${d.kind}@${iso(d.dueAt)}`;
    if (d.warnAt !== null) out.push({ key: `warn:${id}`, at: d.warnAt, type: 'warn', deadline: d });
    if (d.kind === 'follow_up' && state.confirmedAt) {
      const at = after(state, 'auto_follow_up', t(state.confirmedAt), p.followUpAfter);
      out.push({ key: `auto:${id}`, at, type: 'auto_follow_up', deadline: d });
    }
    out.push({ key: `due:${id}`, at: d.dueAt, type: 'due', deadline: d });
    if (d.kind === 'resolve') continue; // the internal escalation is the reminder
    for (let n = 1; n <= p.maxReminders; n++) {
      out.push({ key: `remind${n}:${id}`, at: after(state, 'remind', d.dueAt, n * durationMs(p.remindEvery)), type: 'remind', deadline: d, n });
    }
  }
  return out;
}

/** The timer points still to come, earliest first. */
export function points(state: CaseState): Point[] {
  const fired = new Set(state.fired);
  return allPoints(state)
    .filter((x) => !fired.has(x.key))
    .sort((a, b) => a.at - b.at || ORDER[a.type] - ORDER[b.type]);
}

/** The fired keys that still matter: those of points of deadlines still open. The rest can never come up again. */
export function liveFiredKeys(state: CaseState): string[] {
  const live = new Set(allPoints(state).map((x) => x.key));
  return state.fired.filter((k) => live.has(k));
}

/** When the case must next wake up by itself, and why; null when only people can move it on. */
export function nextWake(state: CaseState): { at: number; summary: string } | null {
  const next = points(state)[0];
  if (!next) return null;
  const what = { warn: 'warn before', due: 'deadline:', remind: 'reminder:', auto_follow_up: 'send follow-up;' }[next.type];
  return { at: next.at, summary: `${what} ${DEADLINE_LABELS[next.deadline.kind]}` };
}
