/**
 * Outbound webhooks, the pure part: which events a change of a case makes, what each delivery's body
 * says, which endpoints want it, and when a failed delivery is tried again (the Standard Webhooks
 * specification's schedule). The case's workflow numbers the events (workflows/webhooks.ts); each
 * endpoint's deliveries for a case are one durable stream of their own.
 */
import { deadlinesOf } from './view';
import { openDeadlinesOf } from './deadlines';
import { iso, teamOf, type CaseState } from './state';
import type { Outbound } from './messages';

export const WEBHOOK_EVENT_TYPES = [
  'case.opened',
  'case.stage_changed',
  'case.deadline_warning',
  'case.breached',
  'case.paused',
  'case.resumed',
  'case.customer_replied',
  'case.resolved',
  'case.reopened',
  'case.transferred',
  'case.csat_recorded',
  'case.closed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** One event of a case, numbered: what every endpoint that wants it is sent. */
export interface CaseEvent {
  type: WebhookEventType;
  /** Per case, from 1, in the order the case changed. */
  sequence: number;
  /** When the case changed (ISO). */
  timestamp: string;
  /** The case as the list shows it, with its team and deadlines, at that moment. */
  case: ReturnType<typeof webhookCase>;
  /** The event's own fields. */
  fields: Record<string, unknown>;
}

/** The case in every delivery: the list item's fields plus team and deadlines. */
export function webhookCase(state: CaseState) {
  const next = openDeadlinesOf(state)[0];
  return {
    id: state.id,
    title: state.input.title,
    customer: { id: state.input.customer.id, name: state.input.customer.name, segment: state.input.customer.segment },
    stage: state.stage,
    status: state.status,
    closeReason: state.closeReason,
    severity: state.severity,
    team: teamOf(state),
    csm: state.input.csm.email,
    breached: state.breaches.length > 0,
    breaches: [...new Set(state.breaches.map((b) => b.kind))],
    openedAt: state.openedAt,
    nextDeadline: next ? iso(next.dueAt) : null,
    paused: state.pause != null && state.status === 'open',
    deadlines: deadlinesOf(state),
  };
}

type Made = { type: WebhookEventType; fields: Record<string, unknown> };

/**
 * The events one change of a case makes, in the order a subscriber reads them: what `before` became in
 * `after` (undefined `before`: the case was opened), with the messages the change asked for (a
 * deadline's warning is one of those).
 */
export function caseEvents(before: CaseState | undefined, after: CaseState, effects: readonly Outbound[] = []): Made[] {
  if (!before) return [{ type: 'case.opened', fields: {} }];
  const out: Made[] = [];
  if (teamOf(before) !== teamOf(after)) out.push({ type: 'case.transferred', fields: { from: teamOf(before), to: teamOf(after) } });
  if (after.reopens > before.reopens) out.push({ type: 'case.reopened', fields: {} });
  if (after.resolvedAt && after.resolvedAt !== before.resolvedAt) out.push({ type: 'case.resolved', fields: { resolvedAt: after.resolvedAt, resolution: after.resolution } });
  if (before.stage !== after.stage) out.push({ type: 'case.stage_changed', fields: { from: before.stage, to: after.stage } });
  const lastReply = after.replies?.at(-1);
  if (lastReply && (after.replies?.length ?? 0) > 0 && !sameReply(lastReply, before.replies?.at(-1))) {
    out.push({ type: 'case.customer_replied', fields: { at: lastReply.at, from: lastReply.from } });
  }
  if (!before.pause && after.pause) out.push({ type: 'case.paused', fields: { reason: after.pause.reason, until: after.pause.until ?? null } });
  if (before.pause && !after.pause && after.status === 'open') out.push({ type: 'case.resumed', fields: {} });
  // One warning is a message per channel: one event per deadline and due time.
  const warned = new Set<string>();
  for (const m of effects) {
    const key = `${m.data.deadline}|${m.data.dueAt}`;
    if (m.kind !== 'deadline_warning' || warned.has(key)) continue;
    warned.add(key);
    out.push({ type: 'case.deadline_warning', fields: { deadline: m.data.deadline, dueAt: m.data.dueAt } });
  }
  const seen = new Set(before.breaches.map((b) => `${b.kind}|${b.dueAt}`));
  for (const b of after.breaches) if (!seen.has(`${b.kind}|${b.dueAt}`)) out.push({ type: 'case.breached', fields: { deadline: b.kind, dueAt: b.dueAt } });
  if (after.csat && after.csat.at !== before.csat?.at) out.push({ type: 'case.csat_recorded', fields: { score: after.csat.score, comment: after.csat.comment ?? null } });
  if (before.status !== 'closed' && after.status === 'closed') out.push({ type: 'case.closed', fields: { reason: after.closeReason } });
  return out;
}

function sameReply(a: { at: string; from: string; messageId?: string }, b: { at: string; from: string; messageId?: string } | undefined): boolean {
  return !!b && a.at === b.at && a.from === b.from && a.messageId === b.messageId;
}

/** What an endpoint subscribes to: event types (absent or `*`: all) and teams (absent: all). */
export interface EndpointFilter {
  events?: readonly string[];
  teams?: readonly string[];
}

export function endpointWants(endpoint: EndpointFilter, type: WebhookEventType, team: string): boolean {
  const events = endpoint.events;
  if (events && !events.includes('*') && !events.includes(type)) return false;
  return !endpoint.teams || endpoint.teams.includes(team);
}

/** The body of a delivery, as the contract writes it. */
export function webhookBody(e: CaseEvent) {
  return { type: e.type, timestamp: e.timestamp, data: { case: e.case, sequence: e.sequence, ...e.fields } };
}

/** After the first attempt: the specification's schedule, about 3 days in all (10 attempts). */
export const RETRY_SCHEDULE_MS = [5e3, 5 * 60e3, 30 * 60e3, 2 * 3600e3, 5 * 3600e3, 10 * 3600e3, 14 * 3600e3, 20 * 3600e3, 24 * 3600e3] as const;
/** An attempt with no answer by then has timed out. */
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** The longest Retry-After heeded (a longer one waits this long). */
export const MAX_RETRY_AFTER_MS = 24 * 3600e3;

/** What an attempt's answer means for the delivery. */
export type AttemptVerdict = 'delivered' | 'retry' | 'failed' | 'gone';

/** 2xx delivers; a timeout, a network error, 5xx and 429 are tried again; 410 is gone; any other answer fails. */
export function verdictOf(status: number | undefined): AttemptVerdict {
  if (status === undefined || status >= 500 || status === 429) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  return 'failed';
}

/**
 * How long after the attempt that made `attemptsMade` attempts the next one goes, or undefined when the
 * schedule is spent. A Retry-After longer than the schedule's wait is honoured (at most a day).
 */
export function nextAttemptIn(attemptsMade: number, retryAfterMs?: number): number | undefined {
  const wait = RETRY_SCHEDULE_MS[attemptsMade - 1];
  if (wait === undefined) return undefined;
  return Math.max(wait, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds from `now`, or undefined. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
