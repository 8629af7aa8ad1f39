/**
 * Building blocks shared by actions and the clock: internal escalations, advancing past recovery,
 * closing.
 */
import { INTERNAL_ESCALATION_PATH, routeTo, type InternalTrigger } from './routing';
import { rulesOf, t, task, type CaseState, type Draft } from './state';
import { duration, truncate } from './format';

export function escalateInternally(d: Draft, a: { trigger: InternalTrigger; note: string; ask?: string; includeIfNeeded?: boolean; by?: string }): void {
  const route = INTERNAL_ESCALATION_PATH[a.trigger];
  // Rules 4: the unresolved window is the case's own, not the playbook's default 24 hours.
  const when = a.trigger === 'unresolved' && rulesOf(d.s) >= 4 ? `Can't resolve within ${d.s.policy.escalateUnresolvedAfter}` : route.when;
  const to = routeTo(a.trigger, { includeIfNeeded: a.includeIfNeeded });
  d.s.internalEscalations.push({ trigger: a.trigger, to, at: d.at, note: a.note, ...(a.ask ? { ask: a.ask } : {}), ...(a.by ? { by: a.by } : {}) });
  d.log('internal_escalation', `${when} → ${to.join(' → ')}`, a.by);
  d.alert('internal_escalation', route.template === 'leadership' ? 'escalation_leadership' : 'escalation_support', to, {
    reason: when,
    trigger: a.trigger,
    note: a.note,
    ask: a.ask ?? null,
    whatTried: whatWeTried(d.s),
  });
}

/** The latest notes, shortened: what an internal alert says was tried (bounded, whatever the log holds). */
const TRIED_NOTES = 10;
const TRIED_CHARS = 500;

export function whatWeTried(state: CaseState): string[] {
  return [
    ...state.notes.slice(-TRIED_NOTES).map((n) => truncate(n.text, TRIED_CHARS)),
    ...(state.updates > 0 ? [`${state.updates} progress update(s) sent to the customer`] : []),
  ];
}

function recoveryDone(state: CaseState): boolean {
  return state.tasks.length > 0 && state.tasks.every((x) => x.doneAt);
}

export function maybeAdvance(d: Draft): void {
  const s = d.s;
  if (s.stage === 'follow_up' && task(s, 'follow_up')?.doneAt) {
    s.stage = 'recovery';
    d.log('stage', 'Follow-up done: recovery');
  }
  if (s.stage === 'recovery' && recoveryDone(s) && (s.outcome || !s.input.customer.renewalDate)) {
    closeCase(d, s.outcome ? 'Recovery done and renewal outcome recorded' : 'Recovery done (no renewal date known)');
  }
}

/** The pause in force ends: its span is kept (it moves the deadlines it held) and the clocks run again. */
export function endPause(d: Draft, why: string, by?: string): void {
  const s = d.s;
  if (!s.pause) return;
  const since = s.pause.since;
  s.pauses = [...(s.pauses ?? []), { from: since, to: d.at }];
  s.pause = null;
  d.log('resumed', `Clocks running again after ${duration(d.now - t(since))} paused: ${why}`, by);
}

/** Seconds the case has spent paused, up to `now`. */
export function pausedSeconds(state: CaseState, now: number): number {
  let ms = 0;
  for (const p of state.pauses ?? []) ms += t(p.to) - t(p.from);
  if (state.pause) ms += Math.max(0, now - t(state.pause.since));
  return Math.round(ms / 1000);
}


export function closeCase(d: Draft, reason: string, by?: string): void {
  endPause(d, 'the case closed', by);
  d.s.stage = 'closed';
  d.s.status = 'closed';
  d.s.closedAt = d.at;
  d.s.closeReason = reason;
  d.log('closed', reason, by);
}
