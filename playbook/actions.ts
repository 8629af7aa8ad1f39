/**
 * Opening a case and the actions people take on it. `act` is what the workflow runs: under rules 2 it
 * first lets the clock catch up (a late action is a breach, whatever order Temporal delivered things
 * in), then applies the action. `validate` throws what `act` would refuse, changing nothing: it backs
 * the workflow's update validators, so a refused action never reaches the history.
 */
import { durationMs, type Policy } from './policy';
import { SEVERITY_TABLE, newlyInvolved } from './severity';
import { findTrigger } from './triggers';
import { lintCustomerText, noNextUpdateFinding, type LintFinding } from './lint';
import type { InternalTrigger } from './routing';
import { ACTION_STAGES, TASK_STAGES, type Action, type ActionType } from './registry';
import { liveFiredKeys, respondDue } from './deadlines';
import { SOONEST_PROMISE_MS, after } from './windows';
import { runClock } from './clock';
import { closeCase, endPause, escalateInternally, maybeAdvance, whatWeTried } from './transitions';
import { DEFAULT_LIMITS, MAX_PAUSES, storedTextChars, timelineLength, type Limits } from './limits';
import type { Calendar } from './calendar';
import {
  Draft,
  PlaybookError,
  iso,
  limitsOf,
  rulesOf,
  t,
  task,
  type CaseInput,
  type CaseState,
  type Stage,
  type Transition,
  MAX_TEAMS_BEFORE,
  teamOf,
} from './state';

export function openCase(p: { id: string; input: CaseInput; policy: Policy; now: number; rulesVersion?: number; limits?: Limits; calendar?: Calendar | null; team?: string }): Transition {
  const { input } = p;
  const rulesVersion = p.rulesVersion ?? 1;
  const state: CaseState = {
    id: p.id,
    ...(rulesVersion >= 2 ? { rulesVersion, limits: p.limits ?? { ...DEFAULT_LIMITS } } : {}),
    input,
    policy: p.policy,
    severity: input.severity,
    stage: 'acknowledge',
    status: 'open',
    openedAt: iso(p.now),
    acknowledgedAt: null,
    firstResponseAt: null,
    lastUpdateAt: null,
    promisedUpdateAt: null,
    resolvedAt: null,
    confirmedAt: null,
    closedAt: null,
    closeReason: null,
    resolution: null,
    updates: 0,
    reopens: 0,
    apologies: 0,
    breaches: [],
    fired: [],
    internalEscalations: [],
    messages: [],
    tasks: [],
    timeline: [],
    notes: [],
    csat: null,
    outcome: null,
    customerThread: [],
    slackThreadTs: null,
    seq: 0,
    ...(rulesVersion >= 4 ? { calendar: p.calendar ?? null } : {}),
    ...(p.team ? { team: p.team } : {}),
  };
  const d = new Draft(state, p.now);
  const level = SEVERITY_TABLE[input.severity];
  d.log('opened', `${level.label} escalation opened: ${input.title}`);
  const involved = level.involved.filter((x) => x !== 'csm');
  d.alert('case_opened', 'escalation_support', ['csm', ...involved], {
    reason: `New ${level.label} escalation`,
    note: input.description ?? null,
    ask: null,
    whatTried: input.workaround ? [`Customer workaround: ${input.workaround}`] : [],
  });
  const automatic: { trigger: InternalTrigger; note: string; includeIfNeeded?: boolean }[] = [];
  if (input.flags?.executiveInvolved) automatic.push({ trigger: 'executive_involved', note: 'Customer executive involved (flagged at open)' });
  if (input.flags?.churnThreat) automatic.push({ trigger: 'churn_threat', note: 'Churn threat (flagged at open)' });
  const known = findTrigger(input.category, input.trigger);
  if (known?.escalates && !automatic.some((x) => x.trigger === known.escalates!.trigger)) {
    automatic.push({ ...known.escalates, note: `Trigger: ${known.label}` });
  }
  for (const a of automatic) escalateInternally(d, a);
  return d.done();
}

/** What the workflow runs for an action: the clock first (rules 2), then the action. */
export function act(prev: CaseState, action: Action, now: number): Transition {
  const d = new Draft(prev, now);
  if (rulesOf(prev) >= 2) runClock(d);
  applyIn(d, action);
  if (rulesOf(prev) >= 2) d.s.fired = liveFiredKeys(d.s);
  return d.done();
}

export function validate(state: CaseState, action: Action, now: number): void {
  act(state, action, now);
}

/** The action alone, with no clock (rules 1, and the unit tests of each rule). */
export function apply(prev: CaseState, action: Action, now: number): Transition {
  const d = new Draft(prev, now);
  applyIn(d, action);
  return d.done();
}

function requireStage(state: CaseState, type: ActionType, what: string, allowed: readonly Stage[] = ACTION_STAGES[type]): void {
  if (state.status === 'closed') throw new PlaybookError('conflict', `The case is closed: cannot ${what}`, { stage: state.stage });
  if (!allowed.includes(state.stage)) {
    throw new PlaybookError('conflict', `Cannot ${what} while the case is in stage "${state.stage}" (allowed: ${allowed.join(', ')})`, {
      stage: state.stage,
      allowed,
    });
  }
}

function requireFuture(field: string, value: string | undefined, now: number): void {
  if (value === undefined) return;
  const when = t(value);
  if (!Number.isFinite(when)) throw new PlaybookError('invalid', `${field} is not a time`, [{ field, message: 'expected an ISO 8601 time' }]);
  if (when <= now) throw new PlaybookError('invalid', `${field} must be in the future`, [{ field, message: 'must be in the future' }]);
}

/** What a case may hold (rules 2): refused with 422 limit_reached before anything is stored. */
function requireRoom(state: CaseState, what: { timeline?: boolean; notes?: boolean; updates?: boolean; text?: (string | undefined)[] }): void {
  if (rulesOf(state) < 2) return;
  const l = limitsOf(state);
  const full = (limit: keyof Limits, current: number, adding = 1) => {
    if (current + adding > l[limit]) {
      throw new PlaybookError('limit', `This case has reached its limit of ${l[limit]} ${LIMIT_NAMES[limit]}`, { limit, max: l[limit], current });
    }
  };
  if (what.timeline) full('timeline', timelineLength(state));
  if (what.notes) full('notes', state.notes.length);
  if (what.updates) full('updates', state.updates);
  if (what.text) full('storedTextChars', storedTextChars(state), what.text.reduce((n, x) => n + (x?.length ?? 0), 0));
}
const LIMIT_NAMES: Record<keyof Limits, string> = {
  notes: 'notes',
  updates: 'progress updates',
  timeline: 'timeline entries',
  storedTextChars: 'characters of stored text',
};

function lint(state: CaseState, fields: Record<string, string | undefined>, override: boolean | undefined, extra: LintFinding[] = []) {
  const result = lintCustomerText(fields, { apologiesSoFar: state.apologies });
  const errors = [...result.errors, ...extra];
  if (errors.length > 0 && !override) {
    throw new PlaybookError('lint', errors.map((e) => e.message).join('; '), errors);
  }
  return { ...result, overridden: override ? errors : [] };
}

function applyIn(d: Draft, action: Action): void {
  const s = d.s;
  const now = d.now;
  const by = action.by;
  switch (action.type) {
    case 'acknowledge': {
      requireStage(s, 'acknowledge', 'acknowledge');
      requireFuture('nextUpdateAt', action.nextUpdateAt, now);
      const checked = lint(s, { note: action.note }, action.overrideLint);
      const nextUpdateAt = action.nextUpdateAt ?? iso(Math.max(respondDue(s), after(s, 'soonest_promise', now, SOONEST_PROMISE_MS)));
      s.acknowledgedAt = d.at;
      s.promisedUpdateAt = nextUpdateAt;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      s.stage = 'investigate';
      s.lastToCustomer = { at: d.at, text: action.note ?? "We're on it: your report is escalated internally." };
      d.log('acknowledged', `Acknowledged; next update promised by ${nextUpdateAt}`, by);
      d.send('acknowledgement', 'acknowledgement', ['contact'], {
        nextUpdateAt,
        note: action.note ?? null,
        workaround: s.input.workaround ?? null,
        by: by ?? null,
      }, ['email']);
      break;
    }
    case 'note': {
      requireStage(s, 'note', 'add a note');
      requireRoom(s, { timeline: true, notes: true, text: [action.text] });
      const kind = action.kind ?? 'investigation';
      s.notes.push({ at: d.at, kind, text: action.text, ...(by ? { by } : {}) });
      // Rules 2: the note is stored once; the view puts it on the timeline (see timelineOf).
      if (rulesOf(s) < 2) d.log('note', `${kind.replace('_', ' ')}: ${action.text}`, by);
      break;
    }
    case 'update': {
      requireStage(s, 'update', 'send a progress update');
      requireFuture('nextUpdateAt', action.nextUpdateAt, now);
      requireRoom(s, { timeline: true, updates: true });
      const checked = lint(
        s,
        { known: action.known, unknown: action.unknown, doing: action.doing, eta: action.eta, workaround: action.workaround },
        action.overrideLint,
        action.nextUpdateAt ? [] : [noNextUpdateFinding()],
      );
      const nextUpdateAt = action.nextUpdateAt ?? iso(after(s, 'default_promise', now, durationMs(s.policy.updateEvery[s.severity])));
      s.firstResponseAt ??= d.at;
      s.lastUpdateAt = d.at;
      s.promisedUpdateAt = nextUpdateAt;
      s.updates += 1;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      s.lastToCustomer = { at: d.at, text: [action.known, action.unknown && `Still investigating: ${action.unknown}`, action.workaround && `In the meantime: ${action.workaround}`, action.eta && `ETA: ${action.eta}`].filter(Boolean).join('\n') };
      if (s.stage !== 'communicate') d.log('stage', 'First progress update: communicate');
      s.stage = 'communicate';
      d.log('update', `Progress update #${s.updates}; next by ${nextUpdateAt}`, by);
      const { type: _type, by: _by, overrideLint: _o, ...fields } = action;
      d.send('progress_update', 'progress_update', ['contact'], { ...fields, nextUpdateAt, number: s.updates }, ['email']);
      break;
    }
    case 'severity': {
      requireStage(s, 'severity', 'change the severity');
      requireRoom(s, { timeline: true });
      if (action.severity === s.severity) {
        throw new PlaybookError('conflict', `The case is already ${action.severity}`, { severity: s.severity });
      }
      const from = s.severity;
      s.severity = action.severity;
      d.log('severity', `${SEVERITY_TABLE[from].label} → ${SEVERITY_TABLE[action.severity].label}: ${action.reason}`, by);
      const newcomers = newlyInvolved(from, action.severity);
      d.alert('severity_changed', 'escalation_support', ['csm', ...newcomers], {
        reason: `Severity changed from ${SEVERITY_TABLE[from].label} to ${SEVERITY_TABLE[action.severity].label}`,
        note: action.reason,
        ask: null,
        whatTried: whatWeTried(s),
      });
      break;
    }
    case 'internal_escalation': {
      requireStage(s, 'internal_escalation', 'escalate internally');
      requireRoom(s, { timeline: true, text: [action.note, action.ask] });
      escalateInternally(d, action);
      break;
    }
    case 'resolve': {
      requireStage(s, 'resolve', 'send a resolution');
      requireRoom(s, { text: [action.rootCause, action.fix, action.prevention] });
      const checked = lint(s, { rootCause: action.rootCause, fix: action.fix, prevention: action.prevention }, action.overrideLint);
      endPause(d, 'a resolution was sent', by);
      s.resolution = { rootCause: action.rootCause, fix: action.fix, prevention: action.prevention };
      s.resolvedAt = d.at;
      s.firstResponseAt ??= d.at;
      s.promisedUpdateAt = null;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      s.stage = 'resolve';
      s.lastToCustomer = { at: d.at, text: `Fix: ${action.fix}\nPrevention: ${action.prevention}` };
      d.log('resolved', `Resolution sent; awaiting the customer's confirmation`, by);
      d.send('resolution', 'resolution', ['contact'], { ...s.resolution }, ['email']);
      break;
    }
    case 'confirmation': {
      requireStage(s, 'confirmation', 'record the customer’s confirmation');
      if (action.resolved) {
        s.confirmedAt = d.at;
        s.stage = 'follow_up';
        const p = s.policy;
        s.tasks = [
          { kind: 'follow_up', dueAt: iso(after(s, 'follow_up', now, p.followUpWithin)) },
          { kind: 'recovery_call', dueAt: iso(after(s, 'recovery_call', now, p.recoveryCallWithin)) },
          { kind: 'health_check', dueAt: iso(after(s, 'health_check', now, p.healthCheckWithin)) },
        ];
        const qbr = s.input.customer.nextQbrDate;
        if (qbr) s.tasks.push({ kind: 'qbr_review', dueAt: iso(Math.max(t(qbr), now)) });
        d.log('confirmed', `Customer confirmed the fix${action.comment ? `: ${action.comment}` : ''}`, by);
      } else {
        s.reopens += 1;
        s.resolvedAt = null;
        s.stage = 'communicate';
        // The update clock starts again from the reopening: the old promise is void.
        s.lastUpdateAt = d.at;
        s.promisedUpdateAt = null;
        d.log('reopened', `Customer says it is not fixed${action.comment ? `: ${action.comment}` : ''}`, by);
        d.alert('reopened', 'reopened', ['csm', ...SEVERITY_TABLE[s.severity].involved], { comment: action.comment ?? null });
      }
      break;
    }
    case 'complete_task': {
      requireStage(s, 'complete_task', `complete the ${action.kind} task`, TASK_STAGES[action.kind]);
      const x = task(s, action.kind);
      if (!x) throw new PlaybookError('conflict', `This case has no ${action.kind} task (no QBR date is known)`, { kind: action.kind });
      if (x.doneAt) throw new PlaybookError('conflict', `The ${action.kind} task was already completed at ${x.doneAt}`, { kind: action.kind });
      requireRoom(s, { text: [action.notes] });
      x.doneAt = d.at;
      x.notes = action.notes;
      if (by) x.by = by;
      d.log('task', `${action.kind.replace('_', ' ')} done: ${action.notes}`, by);
      maybeAdvance(d);
      break;
    }
    case 'csat': {
      requireStage(s, 'csat', 'record CSAT');
      requireRoom(s, { text: [action.comment] });
      s.csat = { score: action.score, at: d.at, ...(action.comment ? { comment: action.comment } : {}) };
      d.log('csat', `CSAT ${action.score}/10${action.comment ? `: ${action.comment}` : ''}`, by);
      break;
    }
    case 'outcome': {
      requireStage(s, 'outcome', 'record the renewal outcome');
      requireRoom(s, { text: [action.note] });
      s.outcome = { churned: action.churned, at: d.at, ...(action.note ? { note: action.note } : {}) };
      d.log('outcome', `${action.churned ? 'Churned' : 'Renewed'}${action.note ? `: ${action.note}` : ''}`, by);
      maybeAdvance(d);
      break;
    }
    case 'close': {
      requireStage(s, 'close', 'close the case');
      closeCase(d, action.reason, by);
      break;
    }
    case 'pause': {
      requireStage(s, 'pause', 'pause the clocks');
      if (s.pause) throw new PlaybookError('conflict', `The clocks are already paused since ${s.pause.since} (${s.pause.reason})`, { paused: s.pause });
      requireFuture('until', action.until, now);
      requireRoom(s, { timeline: true, text: [action.note] });
      if ((s.pauses?.length ?? 0) >= MAX_PAUSES) {
        throw new PlaybookError('limit', `This case has reached its limit of ${MAX_PAUSES} pauses`, { limit: 'pauses', max: MAX_PAUSES, current: s.pauses!.length });
      }
      s.pause = { since: d.at, reason: action.reason, ...(action.until ? { until: action.until } : {}), ...(action.note ? { note: action.note } : {}), ...(by ? { by } : {}) };
      const why = action.reason === 'waiting_on_customer' ? 'waiting on the customer' : 'waiting on a third party';
      d.log('paused', `Customer-facing clocks paused, ${why}${action.until ? ` until ${action.until}` : ''}${action.note ? `: ${action.note}` : ''}`, by);
      break;
    }
    case 'resume': {
      requireStage(s, 'resume', 'resume the clocks');
      if (!s.pause) throw new PlaybookError('conflict', 'The clocks are not paused', { paused: null });
      requireRoom(s, { timeline: true });
      endPause(d, action.note ?? 'resumed by hand', by);
      break;
    }
    case 'transfer': {
      requireStage(s, 'transfer', 'transfer the case');
      const from = teamOf(s);
      if (action.team === from) throw new PlaybookError('conflict', `The case is already in team ${from}`, { team: from });
      requireRoom(s, { timeline: true, text: [action.reason] });
      s.team = action.team;
      s.formerTeams = [...(s.formerTeams ?? []).filter((x) => x !== from && x !== action.team), from].slice(-MAX_TEAMS_BEFORE);
      // The thread stays in the channel of the team it left; the next post starts one in the new team's channel.
      const earlierThread = s.slackThreadTs ? { team: from, ts: s.slackThreadTs } : null;
      if (earlierThread) s.earlierThreads = [...(s.earlierThreads ?? []), earlierThread].slice(-MAX_TEAMS_BEFORE);
      s.slackThreadTs = null;
      d.log('transferred', `Transferred from ${from} to ${action.team}: ${action.reason}`, by);
      d.alert('transferred', 'transferred', ['csm', ...SEVERITY_TABLE[s.severity].involved], { from, to: action.team, reason: action.reason, by: by ?? null, earlierThread });
      break;
    }
    case 'rotate_status_link': {
      requireStage(s, 'rotate_status_link', 'make a new status link');
      requireRoom(s, { timeline: true });
      s.statusLinkGen = (s.statusLinkGen ?? 0) + 1;
      d.log('status_link', 'A new status page link: the earlier ones no longer open', by);
      break;
    }
    case 'reply': {
      requireStage(s, 'reply', 'record a customer reply');
      const text = action.text;
      requireRoom(s, { timeline: true, text: [text] });
      const reply = { at: d.at, from: action.from, text, ...(action.subject ? { subject: action.subject } : {}), ...(action.messageId ? { messageId: action.messageId } : {}) };
      s.replies = [...(s.replies ?? []), reply];
      d.log('customer_reply', `${action.from} replied: ${text.replace(/\s+/g, ' ')}`, by);
      // Waiting on the customer is over; a reply in `resolve` may say the fix did not work: the CSM reads it.
      const awaitingConfirmation = s.stage === 'resolve';
      if (s.pause) endPause(d, 'the customer replied', by);
      d.alert('customer_reply', 'customer_reply', ['csm'], { from: action.from, text, subject: action.subject ?? null, awaitingConfirmation });
      break;
    }
  }
}

/**
 * The case closed from outside the playbook (cancelled in the Temporal UI or CLI): every clock stops.
 * Nothing is refused: an already closed case stays as it was.
 */
export function closeFromOutside(prev: CaseState, reason: string, now: number): Transition {
  const d = new Draft(prev, now);
  if (d.s.status !== 'closed') closeCase(d, reason, 'temporal');
  return d.done();
}
