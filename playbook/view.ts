import { DEADLINE_LABELS, heldClocks, openDeadlinesOf } from './deadlines';
import { pausedSeconds } from './transitions';
import { duration, localTime, truncate } from './format';
import { actionsAllowed } from './registry';
import { DEADLINE_KINDS, SUMMARY_CHARS, iso, limitsOf, rulesOf, t, teamOf, type CaseState, type DeadlineKind, type TimelineEntry } from './state';
import { SEVERITY_TABLE } from './severity';
import { STEPS } from './steps';
import type { LintFinding } from './lint';

/** The timeline in order of time; under rules 2 the notes are merged in from where they are stored. */
export function timelineOf(state: CaseState): TimelineEntry[] {
  if (rulesOf(state) < 2 || state.notes.length === 0) return state.timeline;
  const notes: TimelineEntry[] = state.notes.map((n, i) => {
    const text = `${n.kind.replace('_', ' ')} note #${i + 1}: ${n.text}`;
    return { at: n.at, type: 'note', ...(n.by ? { actor: n.by } : {}), summary: truncate(text, SUMMARY_CHARS) };
  });
  // Stable merge: entries of the same moment keep the order they were written in (stored first).
  const out: TimelineEntry[] = [];
  let i = 0;
  for (const e of state.timeline) {
    while (i < notes.length && notes[i].at < e.at) out.push(notes[i++]);
    out.push(e);
  }
  return [...out, ...notes.slice(i)];
}

/** Who acted, as the view says it: a person signed in (recorded as `Name <email>`) as `{ name, email }`; any other actor (an API key's name, a Slack user, `customer`) as written. */
export type Actor = string | { name: string; email: string };
export function actorOf(recorded: string): Actor {
  const m = /^(.+) <([^<>\s]+@[^<>\s]+)>$/.exec(recorded);
  return m ? { name: m[1], email: m[2] } : recorded;
}

/** The deadlines of a case by name, as ISO times or null. */
export function deadlinesOf(state: CaseState) {
  const open = openDeadlinesOf(state);
  const due = (kind: DeadlineKind) => {
    const d = open.find((x) => x.kind === kind);
    return d ? iso(d.dueAt) : null;
  };
  return Object.fromEntries(DEADLINE_KINDS.map((k) => [DEADLINE_VIEW_NAMES[k], due(k)])) as { [K in DeadlineKind as (typeof DEADLINE_VIEW_NAMES)[K]]: string | null };
}

/** Each deadline's name in the case view (`deadlines`, `paused.remaining`) and the API document. */
export const DEADLINE_VIEW_NAMES = {
  acknowledge: 'acknowledge',
  respond: 'respond',
  next_update: 'nextUpdate',
  resolve: 'resolve',
  confirmation: 'confirmation',
  follow_up: 'followUp',
  recovery_call: 'recoveryCall',
  health_check: 'healthCheck',
  qbr_review: 'qbr',
  outcome: 'outcome',
} as const satisfies Record<DeadlineKind, string>;

/** The pause in force, with the time each clock it holds had left (seconds), or null. */
export function pausedOf(state: CaseState) {
  const p = state.pause;
  if (!p || state.status === 'closed') return null;
  const remaining = Object.fromEntries(heldClocks(state).map((h) => [DEADLINE_VIEW_NAMES[h.kind], Math.round(h.remainingMs / 1000)]));
  return { since: p.since, reason: p.reason, until: p.until ?? null, note: p.note ?? null, by: p.by ?? null, remaining };
}

/**
 * What an action answers: small and of fixed size, because every update result is stored in the
 * case's history (the whole view is a query).
 */
export function actionSummary(state: CaseState, warnings: LintFinding[]) {
  return {
    id: state.id,
    stage: state.stage,
    status: state.status,
    severity: state.severity,
    deadlines: deadlinesOf(state),
    paused: pausedOf(state),
    warnings,
  };
}
export type ActionSummary = ReturnType<typeof actionSummary>;

/** The case as the API and the Temporal UI show it (`now`: for the time paused so far). */
export function caseView(state: CaseState, now: number = Date.now()) {
  const next = openDeadlinesOf(state)[0];
  const { input } = state;
  return {
    id: state.id,
    workflowId: workflowIdFor(state.id),
    stage: state.stage,
    status: state.status,
    severity: state.severity,
    category: input.category,
    trigger: input.trigger,
    title: input.title,
    impact: input.impact,
    description: input.description ?? null,
    neededBy: input.neededBy ?? null,
    workaround: input.workaround ?? null,
    flags: input.flags ?? {},
    customer: input.customer,
    contact: input.contact,
    csm: input.csm,
    openedAt: state.openedAt,
    acknowledgedAt: state.acknowledgedAt,
    firstResponseAt: state.firstResponseAt,
    lastUpdateAt: state.lastUpdateAt,
    /** The next update the customer was promised (by the acknowledgement or the last update), until the resolution. */
    promisedUpdateAt: state.promisedUpdateAt,
    resolvedAt: state.resolvedAt,
    confirmedAt: state.confirmedAt,
    closedAt: state.closedAt,
    closeReason: state.closeReason,
    deadlines: deadlinesOf(state),
    paused: pausedOf(state),
    pausedSeconds: pausedSeconds(state, state.closedAt ? Date.parse(state.closedAt) : now),
    calendar: state.calendar?.name ?? null,
    /** The team the case belongs to, and the teams it was transferred away from (they keep read access). */
    team: teamOf(state),
    formerTeams: state.formerTeams ?? [],
    /** Which status page link is the case's (GET /status/{token}); what the customer was last told. */
    statusLinkGen: state.statusLinkGen ?? 0,
    lastToCustomer: state.lastToCustomer ?? null,
    replies: state.replies ?? [],
    nextDeadline: next ? { kind: next.kind, dueAt: iso(next.dueAt) } : null,
    breaches: state.breaches,
    internalEscalations: state.internalEscalations,
    messages: state.messages,
    /** Older delivered messages not listed (the case keeps the latest; see README, Limits). */
    messagesOmitted: state.messagesOmitted ?? 0,
    tasks: state.tasks,
    notes: state.notes,
    timeline: timelineOf(state).map((e) => (e.actor ? { ...e, actor: actorOf(e.actor) } : e)),
    resolution: state.resolution,
    updates: state.updates,
    reopens: state.reopens,
    csat: state.csat,
    outcome: state.outcome,
    policy: state.policy,
    rulesVersion: rulesOf(state),
    limits: limitsOf(state),
    /** What the playbook asks of the current stage, and the actions the stage allows. */
    playbook: state.stage === 'closed' ? null : { ...STEPS[state.stage], allowedActions: actionsAllowed(state.stage) },
  };
}
export type CaseView = ReturnType<typeof caseView>;

/** What a case id may be: letters, digits and `_ . : -`, up to 120 characters (older ids included). */
export const CASE_ID_PATTERN = /^[\w.:-]{1,120}$/;

/** Every case's workflow id starts so; the Message-IDs of its emails too (activities/email.ts). */
export const WORKFLOW_ID_PREFIX = 'escalation-';

export function workflowIdFor(caseId: string): string {
  return `${WORKFLOW_ID_PREFIX}${caseId}`;
}

/** The reason a case cancelled from the Temporal UI or CLI closes with (the workflow and the API say the same). */
export const CANCELLED_IN_TEMPORAL = 'Cancelled in Temporal (UI or CLI)';

/** `[Critical] Acme Corp — Data sync failing`: the case's one-line summary in the Temporal UI. */
export function caseSummary(input: { severity: CaseState['severity']; customer: { name: string }; title: string }): string {
  return `[${SEVERITY_TABLE[input.severity].label}] ${input.customer.name} — ${input.title}`;
}

/**
 * Current details for the Temporal UI, for the people who work the case: where it stands, what is due
 * next in the contact's and the CSM's time, overdue or not (as of the last change), and the last action.
 */
export function caseDetails(state: CaseState, now: number = Date.now()): string {
  const next = openDeadlinesOf(state)[0];
  const { contact, csm } = state.input;
  const due = next
    ? `${DEADLINE_LABELS[next.kind]} — ${localTime(next.dueAt, contact.timezone)} for the customer, ${localTime(next.dueAt, csm.timezone)} for the CSM${
        next.dueAt < now ? ` — **overdue by ${duration(now - next.dueAt)}** (as of ${localTime(now, csm.timezone)})` : ''
      }`
    : 'none';
  const last = [...state.timeline].reverse().find((e) => e.actor);
  const lines = [
    `**Stage:** ${state.stage} (${state.status}) · **Severity:** ${SEVERITY_TABLE[state.severity].label}`,
    `**Next deadline:** ${due}`,
    ...(state.pause ? [`**Paused:** since ${localTime(t(state.pause.since), csm.timezone)} (${state.pause.reason.replace(/_/g, ' ')})${state.pause.until ? ` until ${localTime(t(state.pause.until), csm.timezone)}` : ''}`] : []),
    `**Last action:** ${last ? `${last.summary} — ${last.actor}, ${localTime(t(last.at), csm.timezone)}` : 'none yet'}`,
    `**Breaches:** ${state.breaches.length === 0 ? 'none' : state.breaches.map((b) => b.kind).join(', ')}`,
    `**Customer:** ${state.input.customer.name} · contact ${contact.name} · CSM ${csm.name}`,
    ...(state.calendar ? [`**Business hours:** ${state.calendar.name} (${state.calendar.timezone})`] : []),
    ...(state.team ? [`**Team:** ${state.team}${state.formerTeams?.length ? ` (before: ${state.formerTeams.join(', ')})` : ''}`] : []),
  ];
  return lines.join('\n');
}

/** The values the case keeps in Temporal visibility (lists, filters and reports read them). */
export function visibilityOf(state: CaseState) {
  const seconds = (from: string | null, to: string | null) =>
    from && to ? Math.round((Date.parse(to) - Date.parse(from)) / 1000) : null;
  const next = openDeadlinesOf(state)[0];
  return {
    stage: state.stage,
    status: state.status,
    severity: state.severity,
    category: state.input.category,
    customerId: state.input.customer.id,
    segment: state.input.customer.segment,
    csm: state.input.csm.email,
    outcome: state.outcome ? (state.outcome.churned ? 'churned' : 'renewed') : null,
    breached: state.breaches.length > 0,
    breachKinds: [...new Set(state.breaches.map((b) => b.kind))],
    openedAt: new Date(state.openedAt),
    nextDeadline: next ? new Date(next.dueAt) : null,
    arr: state.input.customer.arr,
    ackSeconds: seconds(state.openedAt, state.acknowledgedAt),
    resolutionSeconds: seconds(state.openedAt, state.resolvedAt),
    csat: state.csat?.score ?? null,
    // Absent (never published) on a case that never paused, so cases from before pausing publish what they always did.
    paused: state.pause || state.pauses?.length ? state.pause != null && state.status === 'open' : undefined,
    pausedSeconds: state.pauses?.length ? pausedSeconds({ ...state, pause: null }, 0) : undefined,
    // Absent on cases opened before teams (they are `default`'s): they publish what they always did.
    team: state.team,
    /** The teams that may read it: its own and those it was transferred away from. */
    readers: state.team ? [state.team, ...(state.formerTeams ?? [])] : undefined,
  };
}
export type Visibility = ReturnType<typeof visibilityOf>;

/** What a message template may say about the case: read at send time by the activities. */
export function messageCase(state: CaseState) {
  const { input } = state;
  const next = openDeadlinesOf(state)[0];
  return {
    id: state.id,
    status: state.status,
    /** What the Slack panel shows (playbook/panel.ts). */
    nextDeadline: next ? { kind: next.kind, dueAt: iso(next.dueAt) } : null,
    paused: state.pause != null && state.status === 'open',
    title: input.title,
    impact: input.impact,
    issue: input.description ?? input.title,
    neededBy: input.neededBy ?? null,
    stage: state.stage,
    severity: state.severity,
    openedAt: state.openedAt,
    /** The resolution a resolution email's links answer for. */
    resolvedAt: state.resolvedAt,
    customer: input.customer,
    contact: input.contact,
    csm: input.csm,
    /** Whose people and channel its messages go to (activities/recipients.ts). */
    team: teamOf(state),
    /** The status page link its customer emails carry. */
    statusLinkGen: state.statusLinkGen ?? 0,
  };
}
export type MessageCase = ReturnType<typeof messageCase>;
