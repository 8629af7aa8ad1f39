/**
 * Deadlines and timer points: derived from the case every time, never stored. Each point has a key,
 * so a warning, breach or reminder happens once; only the keys of points that can still come up are kept.
 */
import { durationMs, warnOffsetMs } from './policy';
import { after, before, between } from './windows';
import { PAUSABLE, iso, t, type CaseState, type DeadlineKind, type Stage } from './state';

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
  const warnAt = before(state, 'warn', dueAt, warnOffsetMs(state.policy, between(state, 'warn', startAt, dueAt, kind)), kind);
  return { kind, startAt, dueAt, breachable, warnAt: warnAt > startAt && warnAt < dueAt ? warnAt : null };
}

/** The pauses of a case, oldest first; the one in force ends at null. */
function pauseSpans(state: CaseState): { from: number; to: number | null }[] {
  const spans: { from: number; to: number | null }[] = (state.pauses ?? []).map((p) => ({ from: t(p.from), to: t(p.to) }));
  if (state.pause) spans.push({ from: t(state.pause.since), to: null });
  return spans;
}

/**
 * Where a window's due moment lands once the pauses inside it are taken out: each pause that began
 * before the (moving) due moment and after the window started moves it on by the window's time the
 * pause held (business time for a business window). `held` is set while a pause holds the window:
 * the time that was left when the pause began.
 */
function paused(state: CaseState, kind: DeadlineKind, startAt: number, dueAt: number): { dueAt: number; held: number | null } {
  if (!PAUSABLE.includes(kind) || (!state.pause && !state.pauses?.length)) return { dueAt, held: null };
  const w = kind as 'respond' | 'next_update' | 'resolve';
  let due = dueAt;
  for (const span of pauseSpans(state)) {
    if (span.from >= due) break;
    const from = Math.max(span.from, startAt);
    if (span.to === null) return { dueAt: due, held: between(state, w, from, due) };
    const moved = between(state, w, from, span.to);
    if (moved > 0) due = after(state, w, due, moved);
  }
  return { dueAt: due, held: null };
}

/** The customer-facing clocks a pause holds now, with the time each had left (ms). */
export function heldClocks(state: CaseState): { kind: DeadlineKind; remainingMs: number }[] {
  return windows(state).flatMap((x) => {
    if (!PAUSABLE.includes(x.kind)) return [];
    const p = paused(state, x.kind, x.startAt, x.dueAt);
    return p.held === null ? [] : [{ kind: x.kind, remainingMs: p.held }];
  });
}

/** When the first progress update is due: the severity's respond window from the opening. */
export function respondDue(state: CaseState): number {
  return after(state, 'respond', t(state.openedAt), state.policy.respondWithin[state.severity]);
}

interface Window { kind: DeadlineKind; startAt: number; dueAt: number; breachable: boolean }

/** The deadlines still open on a case, earliest first; a clock a pause holds has none until it runs again. */
export function openDeadlines(state: CaseState): Deadline[] {
  const out: Deadline[] = [];
  for (const w of windows(state)) {
    const p = paused(state, w.kind, w.startAt, w.dueAt);
    if (p.held === null) out.push(deadline(state, w.kind, w.startAt, p.dueAt, w.breachable));
  }
  const confirmed = state.confirmedAt ? t(state.confirmedAt) : 0;
  for (const d of out) {
    if (d.kind === 'qbr_review') d.warnAt = Math.max(confirmed, before(state, 'qbr_reminder', d.dueAt, state.policy.qbrReminderBefore));
    if (d.kind === 'follow_up' || d.kind === 'outcome') d.warnAt = null; // the follow-up goes out by itself at followUpAfter
  }
  return out.sort((a, b) => a.dueAt - b.dueAt);
}

/** Each window still open on a case as the policy lays it, before any pause. */
function windows(state: CaseState): Window[] {
  if (state.status === 'closed') return [];
  const p = state.policy;
  const opened = t(state.openedAt);
  const out: Window[] = [];
  const w = (kind: DeadlineKind, startAt: number, dueAt: number, breachable = true) => out.push({ kind, startAt, dueAt, breachable });
  if (!state.acknowledgedAt) w('acknowledge', opened, after(state, 'acknowledge', opened, p.acknowledgeWithin));
  if (!state.firstResponseAt) w('respond', opened, respondDue(state));
  if (state.firstResponseAt && state.lastUpdateAt && state.stage === 'communicate') {
    const last = t(state.lastUpdateAt);
    w('next_update', last, state.promisedUpdateAt ? t(state.promisedUpdateAt) : after(state, 'next_update', last, p.updateEvery[state.severity]));
  }
  if (BEFORE_RESOLUTION.includes(state.stage) && !state.internalEscalations.some((e) => e.trigger === 'unresolved')) {
    w('resolve', opened, after(state, 'resolve', opened, p.escalateUnresolvedAfter), false);
  }
  if (state.stage === 'resolve' && state.resolvedAt) {
    const resolved = t(state.resolvedAt);
    w('confirmation', resolved, after(state, 'confirmation', resolved, p.followUpWithin), false);
  }
  if (state.confirmedAt) {
    const confirmed = t(state.confirmedAt);
    for (const x of state.tasks) if (!x.doneAt) w(x.kind, confirmed, t(x.dueAt));
  }
  const renewal = state.input.customer.renewalDate;
  if (renewal && !state.outcome && state.confirmedAt) w('outcome', t(state.confirmedAt), t(renewal), false);
  return out;
}

export type PointType = 'warn' | 'due' | 'remind' | 'auto_follow_up' | 'resume';
/** A moment the case wakes up by itself: a point of a deadline, or the end a pause was given. */
export type Point =
  | { key: string; at: number; type: Exclude<PointType, 'resume'>; deadline: Deadline; n?: number }
  | { key: string; at: number; type: 'resume' };

const ORDER: Record<PointType, number> = { resume: -1, auto_follow_up: 0, warn: 1, due: 2, remind: 3 };

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
      out.push({ key: `remind${n}:${id}`, at: after(state, 'remind', d.dueAt, n * durationMs(p.remindEvery), d.kind), type: 'remind', deadline: d, n });
    }
  }
  const until = state.status === 'open' ? state.pause?.until : undefined;
  if (until) out.push({ key: `resume@${until}`, at: t(until), type: 'resume' });
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

/**
 * What a case that no longer changes has worked out, once per state object: its open deadlines and its
 * next wake-up. A state a transition returned is never changed again (the next transition works on a
 * clone: Draft), so a view, the published attributes, the messages' case and the loop's timer of one step
 * share one computation instead of each counting business time again (bench part monday: the calendar's
 * arithmetic was most of the workflow thread's time). Drafts are never read through these.
 */
const WORKED_OUT = new WeakMap<CaseState, { open?: Deadline[]; wake?: { at: number; summary: string } | null }>();
function workedOut(state: CaseState) {
  let w = WORKED_OUT.get(state);
  if (!w) WORKED_OUT.set(state, (w = {}));
  return w;
}

/** openDeadlines of a state no transition changes any more (the views' and the loop's): worked out once. Read only. */
export function openDeadlinesOf(state: CaseState): readonly Deadline[] {
  const w = workedOut(state);
  return (w.open ??= openDeadlines(state));
}

/** When the case must next wake up by itself, and why; null when only people can move it on. Worked out once per state. */
export function nextWake(state: CaseState): { at: number; summary: string } | null {
  const w = workedOut(state);
  if (w.wake === undefined) w.wake = wakeOf(state);
  return w.wake;
}

function wakeOf(state: CaseState): { at: number; summary: string } | null {
  const next = points(state)[0];
  if (!next) return null;
  if (next.type === 'resume') return { at: next.at, summary: 'resume the paused clocks' };
  const what = { warn: 'warn before', due: 'deadline:', remind: 'reminder:', auto_follow_up: 'send follow-up;' }[next.type];
  return { at: next.at, summary: `${what} ${DEADLINE_LABELS[next.deadline.kind]}` };
}
