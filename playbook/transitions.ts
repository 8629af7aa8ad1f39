/**
 * Building blocks shared by actions and the clock: internal escalations, advancing past recovery,
 * closing.
 */
import { INTERNAL_ESCALATION_PATH, routeTo, type InternalTrigger } from './routing';
import { task, type CaseState, type Draft } from './state';

export function escalateInternally(d: Draft, a: { trigger: InternalTrigger; note: string; ask?: string; includeIfNeeded?: boolean; by?: string }): void {
  const route = INTERNAL_ESCALATION_PATH[a.trigger];
  const to = routeTo(a.trigger, { includeIfNeeded: a.includeIfNeeded });
  d.s.internalEscalations.push({ trigger: a.trigger, to, at: d.at, note: a.note, ...(a.ask ? { ask: a.ask } : {}), ...(a.by ? { by: a.by } : {}) });
  d.log('internal_escalation', `${route.when} → ${to.join(' → ')}`, a.by);
  d.alert('internal_escalation', route.template === 'leadership' ? 'escalation_leadership' : 'escalation_support', to, {
    reason: route.when,
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
    ...state.notes.slice(-TRIED_NOTES).map((n) => (n.text.length > TRIED_CHARS ? `${n.text.slice(0, TRIED_CHARS - 1)}…` : n.text)),
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

export function closeCase(d: Draft, reason: string, by?: string): void {
  d.s.stage = 'closed';
  d.s.status = 'closed';
  d.s.closedAt = d.at;
  d.s.closeReason = reason;
  d.log('closed', reason, by);
}
