/**
 * A case as a state machine: given a case and an action or a clock tick, the next case and the messages
 * to send. No I/O and no clock of its own (every function takes `now`), so the workflow can run it
 * deterministically and the tests can run it without Temporal.
 */
import { durationMs, warnOffsetMs, type Policy } from './policy';
import { SEVERITY_TABLE, newlyInvolved, nextLevel, type Party, type Role, type Severity } from './severity';
import { INTERNAL_ESCALATION_PATH, routeTo, type InternalTrigger } from './routing';
import { findTrigger, type Category } from './triggers';
import { lintCustomerText, noNextUpdateFinding, type LintFinding } from './lint';
import type { Outbound, TemplateId } from './messages';

export const STAGES = ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery', 'closed'] as const;
export type Stage = (typeof STAGES)[number];
export const TASK_KINDS = ['follow_up', 'recovery_call', 'health_check', 'qbr_review'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const NOTE_KINDS = ['investigation', 'root_cause', 'workaround'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];
export type Segment = 'smb' | 'mid-market' | 'enterprise';

export interface CaseInput {
  customer: {
    id: string;
    name: string;
    segment: Segment;
    arr: number;
    healthScore: number;
    renewalDate?: string;
    nextQbrDate?: string;
  };
  contact: { name: string; email: string; timezone?: string };
  csm: { name: string; email: string };
  severity: Severity;
  category: Category;
  trigger: string;
  title: string;
  impact: string;
  description?: string;
  neededBy?: string;
  workaround?: string;
  flags?: { executiveInvolved?: boolean; churnThreat?: boolean };
}

export interface Breach { kind: DeadlineKind; dueAt: string; at: string }
export interface InternalEscalation { trigger: InternalTrigger; to: Role[]; at: string; note: string; ask?: string; by?: string }
export interface Task { kind: TaskKind; dueAt: string; doneAt?: string; notes?: string; by?: string }
export interface TimelineEntry { at: string; type: string; actor?: string; summary: string }
export interface Note { at: string; kind: NoteKind; text: string; by?: string }
export type MessageStatus = 'pending' | 'sent' | 'skipped' | 'failed';
export interface MessageRecord {
  id: string;
  kind: Outbound['kind'];
  channel: Outbound['channel'];
  to: string[];
  subject?: string;
  at: string;
  status: MessageStatus;
  reason?: string;
}

export interface CaseState {
  id: string;
  input: CaseInput;
  policy: Policy;
  severity: Severity;
  stage: Stage;
  status: 'open' | 'closed';
  openedAt: string;
  acknowledgedAt: string | null;
  firstResponseAt: string | null;
  lastUpdateAt: string | null;
  promisedUpdateAt: string | null;
  resolvedAt: string | null;
  confirmedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  resolution: { rootCause: string; fix: string; prevention: string } | null;
  updates: number;
  reopens: number;
  apologies: number;
  breaches: Breach[];
  /** Keys of the timer points already handled, so each warning, breach and reminder happens once. */
  fired: string[];
  internalEscalations: InternalEscalation[];
  messages: MessageRecord[];
  tasks: Task[];
  timeline: TimelineEntry[];
  notes: Note[];
  csat: { score: number; comment?: string; at: string } | null;
  outcome: { churned: boolean; note?: string; at: string } | null;
  /** Ids of the customer emails sent so far: they thread every later one. */
  customerThread: string[];
  /** The Slack thread of the case, once its first post went out. */
  slackThreadTs: string | null;
  seq: number;
}

export type Action =
  | { type: 'acknowledge'; by?: string; note?: string; nextUpdateAt?: string; overrideLint?: boolean }
  | { type: 'note'; text: string; kind?: NoteKind; by?: string }
  | { type: 'update'; known: string; unknown?: string; doing?: string; eta?: string; workaround?: string; nextUpdateAt?: string; by?: string; overrideLint?: boolean }
  | { type: 'severity'; severity: Severity; reason: string; by?: string }
  | { type: 'internal_escalation'; trigger: InternalTrigger; note: string; ask?: string; includeIfNeeded?: boolean; by?: string }
  | { type: 'resolve'; rootCause: string; fix: string; prevention: string; by?: string; overrideLint?: boolean }
  | { type: 'confirmation'; resolved: boolean; comment?: string; by?: string }
  | { type: 'complete_task'; kind: TaskKind; notes: string; by?: string }
  | { type: 'csat'; score: number; comment?: string; by?: string }
  | { type: 'outcome'; churned: boolean; note?: string; by?: string }
  | { type: 'close'; reason: string; by?: string };

export type ErrorCode = 'conflict' | 'lint' | 'invalid';

/** An action the playbook refuses: `conflict` → 409, `lint` → 422, `invalid` → 400. */
export class PlaybookError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'PlaybookError';
  }
}

export interface Transition {
  state: CaseState;
  effects: Outbound[];
  warnings: LintFinding[];
}

// ---------------------------------------------------------------------------------------------------
// Deadlines: derived from the case every time, never stored.

export type DeadlineKind =
  | 'acknowledge'
  | 'respond'
  | 'next_update'
  | 'resolve'
  | 'confirmation'
  | 'follow_up'
  | 'recovery_call'
  | 'health_check'
  | 'qbr_review'
  | 'outcome';

export interface Deadline {
  kind: DeadlineKind;
  startAt: number;
  dueAt: number;
  /** Missing it is recorded as a breach and the next level is told; otherwise the owner is only reminded. */
  breachable: boolean;
  /** How long before `dueAt` the owner is warned, or null for no warning. */
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

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const BEFORE_RESOLUTION: readonly Stage[] = ['acknowledge', 'investigate', 'communicate'];

function task(state: CaseState, kind: TaskKind): Task | undefined {
  return state.tasks.find((x) => x.kind === kind);
}

function deadline(state: CaseState, kind: DeadlineKind, startAt: number, dueAt: number, breachable = true): Deadline {
  const warnAt = dueAt - warnOffsetMs(state.policy, Math.max(0, dueAt - startAt));
  return { kind, startAt, dueAt, breachable, warnAt: warnAt > startAt && warnAt < dueAt ? warnAt : null };
}

/** The deadlines still open on a case, earliest first. */
export function openDeadlines(state: CaseState): Deadline[] {
  if (state.status === 'closed') return [];
  const p = state.policy;
  const opened = t(state.openedAt);
  const out: Deadline[] = [];
  if (!state.acknowledgedAt) out.push(deadline(state, 'acknowledge', opened, opened + durationMs(p.acknowledgeWithin)));
  if (!state.firstResponseAt) out.push(deadline(state, 'respond', opened, opened + durationMs(p.respondWithin[state.severity])));
  if (state.firstResponseAt && state.lastUpdateAt && state.stage === 'communicate') {
    const last = t(state.lastUpdateAt);
    const due = state.promisedUpdateAt ? t(state.promisedUpdateAt) : last + durationMs(p.updateEvery[state.severity]);
    out.push(deadline(state, 'next_update', last, due));
  }
  if (BEFORE_RESOLUTION.includes(state.stage) && !state.internalEscalations.some((e) => e.trigger === 'unresolved')) {
    out.push(deadline(state, 'resolve', opened, opened + durationMs(p.escalateUnresolvedAfter), false));
  }
  if (state.stage === 'resolve' && state.resolvedAt) {
    const resolved = t(state.resolvedAt);
    out.push(deadline(state, 'confirmation', resolved, resolved + durationMs(p.followUpWithin), false));
  }
  if (state.confirmedAt) {
    const confirmed = t(state.confirmedAt);
    for (const x of state.tasks) {
      if (x.doneAt) continue;
      const d = deadline(state, x.kind, confirmed, t(x.dueAt));
      if (x.kind === 'qbr_review') d.warnAt = Math.max(confirmed, d.dueAt - durationMs(p.qbrReminderBefore));
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

// ---------------------------------------------------------------------------------------------------
// Timer points: every moment the case must wake up, each with a key so it fires once.

type PointType = 'warn' | 'due' | 'remind' | 'auto_follow_up';
interface Point { key: string; at: number; type: PointType; deadline: Deadline; n?: number }

const ORDER: Record<PointType, number> = { auto_follow_up: 0, warn: 1, due: 2, remind: 3 };

function points(state: CaseState): Point[] {
  const p = state.policy;
  const out: Point[] = [];
  for (const d of openDeadlines(state)) {
    const id = `${d.kind}@${iso(d.dueAt)}`;
    if (d.warnAt !== null) out.push({ key: `warn:${id}`, at: d.warnAt, type: 'warn', deadline: d });
    if (d.kind === 'follow_up' && state.confirmedAt) {
      const at = t(state.confirmedAt) + durationMs(p.followUpAfter);
      out.push({ key: `auto:${id}`, at, type: 'auto_follow_up', deadline: d });
    }
    out.push({ key: `due:${id}`, at: d.dueAt, type: 'due', deadline: d });
    if (d.kind === 'resolve') continue; // the internal escalation is the reminder
    for (let n = 1; n <= p.maxReminders; n++) {
      out.push({ key: `remind${n}:${id}`, at: d.dueAt + n * durationMs(p.remindEvery), type: 'remind', deadline: d, n });
    }
  }
  const fired = new Set(state.fired);
  return out.filter((x) => !fired.has(x.key)).sort((a, b) => a.at - b.at || ORDER[a.type] - ORDER[b.type]);
}

/** When the case must next wake up by itself, and why; null when only people can move it on. */
export function nextWake(state: CaseState): { at: number; summary: string } | null {
  const next = points(state)[0];
  if (!next) return null;
  const what = { warn: 'warn before', due: 'deadline:', remind: 'reminder:', auto_follow_up: 'send follow-up;' }[next.type];
  return { at: next.at, summary: `${what} ${DEADLINE_LABELS[next.deadline.kind]}` };
}

// ---------------------------------------------------------------------------------------------------
// Building blocks for transitions.

function clone(state: CaseState): CaseState {
  return JSON.parse(JSON.stringify(state)) as CaseState;
}

class Draft {
  readonly effects: Outbound[] = [];
  readonly warnings: LintFinding[] = [];
  constructor(
    readonly s: CaseState,
    readonly now: number,
  ) {}

  get at(): string {
    return iso(this.now);
  }

  log(type: string, summary: string, actor?: string): void {
    this.s.timeline.push({ at: this.at, type, summary, ...(actor ? { actor } : {}) });
  }

  send(kind: Outbound['kind'], template: TemplateId, to: Party[], data: Record<string, unknown>, channels: Outbound['channel'][]): void {
    const recipients = [...new Set(to)];
    if (recipients.length === 0) return;
    for (const channel of channels) {
      const id = `m${++this.s.seq}`;
      const customer = recipients.includes('contact');
      const out: Outbound = { id, kind, channel, template, to: recipients, data, audience: customer ? 'customer' : 'internal' };
      if (customer && channel === 'email') {
        out.thread = [...this.s.customerThread];
        this.s.customerThread.push(id);
      }
      this.effects.push(out);
      this.s.messages.push({ id, kind, channel, to: recipients, at: this.at, status: 'pending' });
    }
  }

  /** An internal alert: by email and in the case's Slack thread. */
  alert(kind: Outbound['kind'], template: TemplateId, to: Party[], data: Record<string, unknown>): void {
    this.send(kind, template, to, data, ['email', 'slack']);
  }

  done(): Transition {
    return { state: this.s, effects: this.effects, warnings: this.warnings };
  }
}

function escalateInternally(d: Draft, a: { trigger: InternalTrigger; note: string; ask?: string; includeIfNeeded?: boolean; by?: string }): void {
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

function whatWeTried(state: CaseState): string[] {
  return [
    ...state.notes.map((n) => n.text),
    ...(state.updates > 0 ? [`${state.updates} progress update(s) sent to the customer`] : []),
  ];
}

function requireStage(state: CaseState, allowed: readonly Stage[], what: string): void {
  if (state.status === 'closed') throw new PlaybookError('conflict', `The case is closed: cannot ${what}`, { stage: state.stage });
  if (!allowed.includes(state.stage)) {
    throw new PlaybookError('conflict', `Cannot ${what} while the case is in stage "${state.stage}" (allowed: ${allowed.join(', ')})`, {
      stage: state.stage,
      allowed,
    });
  }
}

function requireFuture(field: string, value: string | undefined, now: number): void {
  if (value !== undefined && t(value) <= now) {
    throw new PlaybookError('invalid', `${field} must be in the future`, [{ field, message: 'must be in the future' }]);
  }
}

function lint(state: CaseState, fields: Record<string, string | undefined>, override: boolean | undefined, extra: LintFinding[] = []) {
  const result = lintCustomerText(fields, { apologiesSoFar: state.apologies });
  const errors = [...result.errors, ...extra];
  if (errors.length > 0 && !override) {
    throw new PlaybookError('lint', errors.map((e) => e.message).join('; '), errors);
  }
  return { ...result, overridden: override ? errors : [] };
}

function recoveryDone(state: CaseState): boolean {
  return state.tasks.length > 0 && state.tasks.every((x) => x.doneAt);
}

function maybeAdvance(d: Draft): void {
  const s = d.s;
  if (s.stage === 'follow_up' && task(s, 'follow_up')?.doneAt) {
    s.stage = 'recovery';
    d.log('stage', 'Follow-up done: recovery');
  }
  if (s.stage === 'recovery' && recoveryDone(s) && (s.outcome || !s.input.customer.renewalDate)) {
    closeCase(d, s.outcome ? 'Recovery done and renewal outcome recorded' : 'Recovery done (no renewal date known)');
  }
}

function closeCase(d: Draft, reason: string, by?: string): void {
  d.s.stage = 'closed';
  d.s.status = 'closed';
  d.s.closedAt = d.at;
  d.s.closeReason = reason;
  d.log('closed', reason, by);
}

// ---------------------------------------------------------------------------------------------------
// Opening a case.

export function openCase(p: { id: string; input: CaseInput; policy: Policy; now: number }): Transition {
  const { input } = p;
  const state: CaseState = {
    id: p.id,
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

// ---------------------------------------------------------------------------------------------------
// Actions. `validate` throws what `apply` would refuse, without changing anything: it backs the
// workflow's update validators, so a refused action never reaches the history.

export function validate(state: CaseState, action: Action, now: number): void {
  apply(state, action, now);
}

export function apply(prev: CaseState, action: Action, now: number): Transition {
  const d = new Draft(clone(prev), now);
  const s = d.s;
  const by = action.by;
  switch (action.type) {
    case 'acknowledge': {
      requireStage(s, ['acknowledge'], 'acknowledge');
      requireFuture('nextUpdateAt', action.nextUpdateAt, now);
      const checked = lint(s, { note: action.note }, action.overrideLint);
      const respondBy = t(s.openedAt) + durationMs(s.policy.respondWithin[s.severity]);
      const nextUpdateAt = action.nextUpdateAt ?? iso(Math.max(respondBy, now + 60_000));
      s.acknowledgedAt = d.at;
      s.promisedUpdateAt = nextUpdateAt;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      s.stage = 'investigate';
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
      requireStage(s, ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery'], 'add a note');
      const kind = action.kind ?? 'investigation';
      s.notes.push({ at: d.at, kind, text: action.text, ...(by ? { by } : {}) });
      d.log('note', `${kind.replace('_', ' ')}: ${action.text}`, by);
      break;
    }
    case 'update': {
      requireStage(s, ['investigate', 'communicate'], 'send a progress update');
      requireFuture('nextUpdateAt', action.nextUpdateAt, now);
      const checked = lint(
        s,
        { known: action.known, unknown: action.unknown, doing: action.doing, eta: action.eta, workaround: action.workaround },
        action.overrideLint,
        action.nextUpdateAt ? [] : [noNextUpdateFinding()],
      );
      const nextUpdateAt = action.nextUpdateAt ?? iso(now + durationMs(s.policy.updateEvery[s.severity]));
      s.firstResponseAt ??= d.at;
      s.lastUpdateAt = d.at;
      s.promisedUpdateAt = nextUpdateAt;
      s.updates += 1;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      if (s.stage !== 'communicate') d.log('stage', 'First progress update: communicate');
      s.stage = 'communicate';
      d.log('update', `Progress update #${s.updates}; next by ${nextUpdateAt}`, by);
      const { type: _type, by: _by, overrideLint: _o, ...fields } = action;
      d.send('progress_update', 'progress_update', ['contact'], { ...fields, nextUpdateAt, number: s.updates }, ['email']);
      break;
    }
    case 'severity': {
      requireStage(s, ['acknowledge', 'investigate', 'communicate', 'resolve'], 'change the severity');
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
      requireStage(s, ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery'], 'escalate internally');
      escalateInternally(d, action);
      break;
    }
    case 'resolve': {
      requireStage(s, ['investigate', 'communicate'], 'send a resolution');
      const checked = lint(s, { rootCause: action.rootCause, fix: action.fix, prevention: action.prevention }, action.overrideLint);
      s.resolution = { rootCause: action.rootCause, fix: action.fix, prevention: action.prevention };
      s.resolvedAt = d.at;
      s.firstResponseAt ??= d.at;
      s.promisedUpdateAt = null;
      s.apologies += checked.apologies;
      d.warnings.push(...checked.warnings);
      s.stage = 'resolve';
      d.log('resolved', `Resolution sent; awaiting the customer's confirmation`, by);
      d.send('resolution', 'resolution', ['contact'], { ...s.resolution }, ['email']);
      break;
    }
    case 'confirmation': {
      requireStage(s, ['resolve'], 'record the customer’s confirmation');
      if (action.resolved) {
        s.confirmedAt = d.at;
        s.stage = 'follow_up';
        const p = s.policy;
        s.tasks = [
          { kind: 'follow_up', dueAt: iso(now + durationMs(p.followUpWithin)) },
          { kind: 'recovery_call', dueAt: iso(now + durationMs(p.recoveryCallWithin)) },
          { kind: 'health_check', dueAt: iso(now + durationMs(p.healthCheckWithin)) },
        ];
        const qbr = s.input.customer.nextQbrDate;
        if (qbr) s.tasks.push({ kind: 'qbr_review', dueAt: iso(Math.max(t(qbr), now)) });
        d.log('confirmed', `Customer confirmed the fix${action.comment ? `: ${action.comment}` : ''}`, by);
      } else {
        s.reopens += 1;
        s.resolvedAt = null;
        s.stage = 'communicate';
        s.lastUpdateAt = d.at;
        s.promisedUpdateAt = null;
        d.log('reopened', `Customer says it is not fixed${action.comment ? `: ${action.comment}` : ''}`, by);
        d.alert('reopened', 'reopened', ['csm', ...SEVERITY_TABLE[s.severity].involved], { comment: action.comment ?? null });
      }
      break;
    }
    case 'complete_task': {
      requireStage(s, action.kind === 'follow_up' ? ['follow_up'] : ['follow_up', 'recovery'], `complete the ${action.kind} task`);
      const x = task(s, action.kind);
      if (!x) throw new PlaybookError('conflict', `This case has no ${action.kind} task (no QBR date is known)`, { kind: action.kind });
      if (x.doneAt) throw new PlaybookError('conflict', `The ${action.kind} task was already completed at ${x.doneAt}`, { kind: action.kind });
      x.doneAt = d.at;
      x.notes = action.notes;
      if (by) x.by = by;
      d.log('task', `${action.kind.replace('_', ' ')} done: ${action.notes}`, by);
      maybeAdvance(d);
      break;
    }
    case 'csat': {
      requireStage(s, ['follow_up', 'recovery'], 'record CSAT');
      s.csat = { score: action.score, at: d.at, ...(action.comment ? { comment: action.comment } : {}) };
      d.log('csat', `CSAT ${action.score}/10${action.comment ? `: ${action.comment}` : ''}`, by);
      break;
    }
    case 'outcome': {
      requireStage(s, ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery'], 'record the renewal outcome');
      s.outcome = { churned: action.churned, at: d.at, ...(action.note ? { note: action.note } : {}) };
      d.log('outcome', `${action.churned ? 'Churned' : 'Renewed'}${action.note ? `: ${action.note}` : ''}`, by);
      maybeAdvance(d);
      break;
    }
    case 'close': {
      requireStage(s, ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery'], 'close the case');
      closeCase(d, action.reason, by);
      break;
    }
  }
  return d.done();
}

// ---------------------------------------------------------------------------------------------------
// The clock.

/** Handles every timer point due by `now`: warnings, breaches, reminders, the automatic follow-up. */
export function tick(prev: CaseState, now: number): Transition {
  const d = new Draft(clone(prev), now);
  const s = d.s;
  const alerts: Alert[] = [];
  for (let next = points(s)[0]; next && next.at <= now && s.status === 'open'; next = points(s)[0]) {
    s.fired.push(next.key);
    const alert = fire(d, next);
    if (alert) alerts.push(alert);
  }
  for (const a of mergeAlerts(alerts)) d.alert(a.kind, a.template, a.to, a.data);
  return d.done();
}

interface Alert {
  kind: 'deadline_warning' | 'breach' | 'reminder';
  template: TemplateId;
  to: Party[];
  data: { deadline: string; what: string; dueAt: string; n?: number };
}

/** Deadlines that fall due together (a critical case's acknowledge and respond) make one alert, not two. */
function mergeAlerts(alerts: Alert[]): Alert[] {
  const merged = new Map<string, Alert>();
  for (const a of alerts) {
    const key = `${a.kind}|${a.to.join('+')}`;
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...a, data: { ...a.data } });
    else {
      seen.data.deadline += `,${a.data.deadline}`;
      seen.data.what += ` and ${a.data.what}`;
      if (a.data.dueAt < seen.data.dueAt) seen.data.dueAt = a.data.dueAt;
    }
  }
  return [...merged.values()];
}

function fire(d: Draft, point: Point): Alert | undefined {
  const s = d.s;
  const { kind, dueAt } = point.deadline;
  const data = { deadline: kind as string, what: DEADLINE_LABELS[kind], dueAt: iso(dueAt) };
  switch (point.type) {
    case 'warn':
      return { kind: 'deadline_warning', template: 'deadline_warning', to: ['csm'], data };
    case 'auto_follow_up': {
      const x = task(s, 'follow_up')!;
      x.doneAt = d.at;
      x.notes = 'Follow-up email sent automatically';
      d.log('follow_up', 'Follow-up email sent to the customer');
      d.send('follow_up', 'follow_up', ['contact'], { fix: s.resolution?.fix ?? '', prevention: s.resolution?.prevention ?? '' }, ['email']);
      maybeAdvance(d);
      return undefined;
    }
    case 'due':
      if (kind === 'resolve') {
        escalateInternally(d, { trigger: 'unresolved', note: `Not resolved within ${s.policy.escalateUnresolvedAfter} of opening` });
        return undefined;
      }
      if (!point.deadline.breachable) return { kind: 'reminder', template: 'reminder', to: ['csm'], data: { ...data, n: 0 } };
      s.breaches.push({ kind, dueAt: data.dueAt, at: d.at });
      d.log('breach', `Missed: ${data.what} (due ${data.dueAt})`);
      return { kind: 'breach', template: 'breach_alert', to: ['csm', ...nextLevel(s.severity)], data };
    case 'remind':
      return { kind: 'reminder', template: 'reminder', to: ['csm'], data: { ...data, n: point.n } };
  }
}

// ---------------------------------------------------------------------------------------------------
// Delivery results, reported back by the workflow.

export function recordDelivery(
  prev: CaseState,
  r: { id: string; status: MessageStatus; to?: string[]; subject?: string; reason?: string; threadTs?: string },
  now: number,
): Transition {
  const d = new Draft(clone(prev), now);
  if (r.threadTs && !d.s.slackThreadTs) d.s.slackThreadTs = r.threadTs;
  const m = d.s.messages.find((x) => x.id === r.id);
  if (!m) return d.done();
  m.status = r.status;
  if (r.to && r.to.length > 0) m.to = r.to;
  if (r.subject) m.subject = r.subject;
  if (r.reason) m.reason = r.reason;
  if (r.status === 'failed' && m.kind !== 'delivery_failed') {
    d.log('delivery_failed', `${m.kind} by ${m.channel} failed: ${r.reason ?? 'unknown reason'}`);
    const other = m.channel === 'email' ? 'slack' : 'email';
    d.send('delivery_failed', 'delivery_failed', ['csm'], { failedKind: m.kind, channel: m.channel, to: m.to, reason: r.reason ?? null }, [other]);
  }
  return d.done();
}
