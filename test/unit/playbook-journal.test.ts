/**
 * Whole cases driven through the playbook's pure rules, step by step, and their journals pinned: what
 * each step wrote on the timeline, what it asked to send (kind, channel, template, recipients, data),
 * its lint warnings, the deadlines then open (due, warning, breachable), the clocks a pause holds, and
 * the next wake-up. A change to a rule's wording, recipients, windows or order shows here as a diff of
 * the snapshot (test/unit/__snapshots__), to be read and accepted on purpose (`npx jest -u`), never
 * unseen. `npm run mutation` holds these to account.
 */
import {
  DEFAULT_POLICY,
  RULES_VERSION,
  act,
  heldClocks,
  nextWake,
  openCase,
  openDeadlines,
  tick,
  type Action,
  type Calendar,
  type CaseInput,
  type CaseState,
  type Policy,
  type Transition,
} from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-12-07T08:00:00Z'); // a Monday, 09:00 in Berlin
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const rel = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : `+${((ms - T0) / HOUR).toFixed(2)}h`);

const OFFICE: Calendar = {
  name: 'office',
  timezone: 'Europe/Berlin',
  hours: { mon: ['09:00-12:00', '13:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-15:00'] },
  holidays: ['2026-12-24', '2026-12-25'],
};

/** A case and its journal: every step, timers fired as the workflow fires them (each at its moment). */
function journal(o: { input?: Partial<CaseInput>; policy?: Partial<Policy>; rulesVersion?: number; calendar?: Calendar; openedAt?: number }) {
  const first = openCase({ id: 'j1', input: caseInput(o.input), policy: { ...DEFAULT_POLICY, ...o.policy }, now: T0 + (o.openedAt ?? 0), rulesVersion: o.rulesVersion ?? RULES_VERSION, ...(o.calendar ? { calendar: o.calendar } : {}) });
  let state: CaseState = first.state;
  const entries: unknown[] = [];
  const record = (step: string, at: number, before: CaseState, t: Transition) => {
    state = t.state;
    entries.push({
      step: `${rel(at)} ${step}`,
      timeline: state.timeline.slice(before.timeline.length).map((e) => `${e.type}${e.actor ? ` (${e.actor})` : ''}: ${e.summary}`),
      sent: t.effects.map((m) => ({ kind: m.kind, channel: m.channel, template: m.template, to: m.to, audience: m.audience, data: m.data })),
      warnings: t.warnings.map((w) => `${w.code} in ${w.field}`),
      stage: `${state.status}/${state.stage}`,
      deadlines: openDeadlines(state).map((d) => `${d.kind}: due ${rel(d.dueAt)}${d.warnAt === null ? '' : `, warn ${rel(d.warnAt)}`}${d.breachable ? '' : ', not breachable'}`),
      held: heldClocks(state).map((h) => `${h.kind} ${(h.remainingMs / MIN).toFixed(1)} min`),
      tasks: state.tasks.map((x) => `${x.kind}: due ${rel(t0(x.dueAt))}${x.doneAt ? `, done ${rel(t0(x.doneAt))}` : ''}${x.notes ? ` (${x.notes})` : ''}`),
      breaches: state.breaches.map((b) => `${b.kind} due ${rel(t0(b.dueAt))} at ${rel(t0(b.at))}`),
      fired: (state.fired ?? []).length,
      next: ((w) => (w ? `${rel(w.at)} ${w.summary}` : null))(nextWake(state)),
    });
  };
  record('open', T0 + (o.openedAt ?? 0), { ...first.state, timeline: [] }, first);
  /** Fires every wake-up up to `ms` after the open (each at its own moment), as the worker would. */
  const until = (ms: number) => {
    for (let w = nextWake(state); w && w.at <= T0 + ms; w = nextWake(state)) {
      const before = state;
      record(`tick (${w.summary})`, w.at, before, tick(state, w.at));
    }
  };
  return {
    get state() {
      return state;
    },
    entries,
    until,
    /** The action `ms` after the open with no timer fired since the last step (the workers were down). */
    actLate(ms: number, action: Action) {
      const before = state;
      record(`${action.type} (no worker until now)`, T0 + ms, before, act(state, action, T0 + ms));
    },
    /** The action `ms` after the open, once the wake-ups before it have fired. */
    act(ms: number, action: Action) {
      until(ms - 1);
      const before = state;
      record(action.type, T0 + ms, before, act(state, action, T0 + ms));
    },
  };
}

const isoIn = (ms: number) => iso(T0 + ms)!;
const t0 = (at: string | null | undefined) => (at ? Date.parse(at) : null);

test('a high case, start to close: acknowledged, updated, escalated, raised, resolved, confirmed, followed up, recovered, outcome recorded', () => {
  const j = journal({ input: { severity: 'high', customer: { ...caseInput().customer, renewalDate: '2027-03-01T00:00:00Z', nextQbrDate: '2027-01-20T00:00:00Z' } } });
  j.act(30 * MIN, { type: 'acknowledge', by: 'sam', note: 'We are sorry: engineers are on it.', nextUpdateAt: isoIn(3 * HOUR) });
  j.act(2 * HOUR, { type: 'note', by: 'sam', text: 'Reproduced on the staging copy', kind: 'investigation' });
  j.act(150 * MIN, { type: 'update', by: 'sam', known: 'Sync fails on files over 2 GB.', unknown: 'Why since Friday.', doing: 'Patching the uploader.', eta: 'tomorrow 10:00 UTC', workaround: 'Split the export.', nextUpdateAt: isoIn(7 * HOUR) });
  j.act(4 * HOUR, { type: 'internal_escalation', by: 'sam', trigger: 'engineering_required', note: 'Needs a fix in the uploader', ask: 'A patch today' });
  j.act(5 * HOUR, { type: 'severity', by: 'lee', severity: 'critical', reason: 'Month-end close at risk' });
  j.act(6 * HOUR, { type: 'internal_escalation', by: 'sam', trigger: 'billing_contract', note: 'They ask for a credit', includeIfNeeded: true });
  j.act(7 * HOUR, { type: 'note', by: 'eng', text: 'Uploader buffer overflow', kind: 'root_cause' });
  j.act(10 * HOUR, { type: 'resolve', by: 'sam', rootCause: 'A buffer overflow in the uploader.', fix: 'Patched and deployed at 17:00 UTC.', prevention: 'A test with 5 GB files runs on every release.' });
  j.act(12 * HOUR, { type: 'confirmation', by: 'dana', resolved: true, comment: 'Works now' });
  j.act(3 * DAY, { type: 'complete_task', by: 'sam', kind: 'recovery_call', notes: 'Walked through the fix' });
  j.act(10 * DAY, { type: 'csat', by: 'dana', score: 9, comment: 'Quick fix' });
  j.act(20 * DAY, { type: 'complete_task', by: 'sam', kind: 'health_check', notes: 'Usage back to normal' });
  j.act(40 * DAY, { type: 'complete_task', by: 'sam', kind: 'qbr_review', notes: 'Covered at the QBR' });
  j.act(90 * DAY, { type: 'outcome', by: 'ana', churned: false, note: 'Renewed for two years' });
  j.until(120 * DAY);
  expect(j.state.status).toBe('closed');
  expect(j.entries).toMatchSnapshot();
});

test('a critical case nobody answers: warnings, breaches to the next level, three reminders each, the unresolved escalation at its window; then acknowledged late', () => {
  for (const rulesVersion of [1, 6]) {
    const j = journal({ rulesVersion, policy: { escalateUnresolvedAfter: '20h' } });
    j.until(22 * HOUR);
    j.act(23 * HOUR, { type: 'acknowledge', by: 'sam', nextUpdateAt: isoIn(24 * HOUR) });
    j.until(40 * HOUR);
    expect(j.entries).toMatchSnapshot(`rules ${rulesVersion}`);
  }
});

test('business hours and pauses: windows counted in the office calendar, clocks held while paused, resumed at the pause end, by hand and by a reply', () => {
  const j = journal({ input: { severity: 'high' }, calendar: OFFICE, policy: { businessHours: ['acknowledge', 'respond', 'next_update'], warnBefore: '30m' } });
  j.act(20 * MIN, { type: 'acknowledge', by: 'sam', nextUpdateAt: isoIn(2 * HOUR) });
  j.act(HOUR, { type: 'pause', by: 'sam', reason: 'waiting_on_customer', note: 'Logs requested', until: isoIn(26 * HOUR) });
  j.until(27 * HOUR);
  j.act(28 * HOUR, { type: 'pause', by: 'sam', reason: 'waiting_on_third_party' });
  j.act(29 * HOUR, { type: 'resume', by: 'sam', note: 'Vendor answered' });
  j.act(30 * HOUR, { type: 'pause', by: 'sam', reason: 'waiting_on_customer' });
  j.act(31 * HOUR, { type: 'reply', by: 'inbound', from: 'dana@acme.example', text: 'Here are the logs you asked for.', subject: 'Re: logs' });
  j.until(4 * DAY);
  expect(j.entries).toMatchSnapshot();
});

test('the fix not confirmed: the case goes back to work; the unresolved escalation under rules 3 and 6 says its window as each did', () => {
  for (const rulesVersion of [3, 6]) {
    const j = journal({ rulesVersion, input: { severity: 'medium' }, policy: { escalateUnresolvedAfter: '30h' } });
    j.act(10 * MIN, { type: 'acknowledge', by: 'sam', nextUpdateAt: isoIn(20 * HOUR) });
    j.act(5 * HOUR, { type: 'resolve', by: 'sam', rootCause: 'A stale cache.', fix: 'Cache flushed at 13:00 UTC.', prevention: 'The cache now expires hourly.' });
    j.act(6 * HOUR, { type: 'confirmation', by: 'dana', resolved: false, comment: 'Still broken for EU users' });
    j.act(7 * HOUR, { type: 'internal_escalation', by: 'sam', trigger: 'unresolved', note: 'Second fix needed' });
    j.act(8 * HOUR, { type: 'close', by: 'ana', reason: 'Duplicate of another case' });
    expect(j.entries).toMatchSnapshot(`rules ${rulesVersion}`);
  }
});

test('reminders of two deadlines falling together go out as one, naming both, due at the earlier', () => {
  const j = journal({ policy: { respondWithin: { ...DEFAULT_POLICY.respondWithin, critical: '5h' } } });
  j.until(10 * HOUR);
  expect(j.entries).toMatchSnapshot();
});

test('the workers down past the deadlines: the late acknowledgement is the breach, and the timers that fire after it add none (rules 2 and later)', () => {
  for (const rulesVersion of [1, 6]) {
    const j = journal({ rulesVersion, input: { severity: 'high' } });
    j.actLate(2 * HOUR, { type: 'acknowledge', by: 'sam', nextUpdateAt: isoIn(5 * HOUR) });
    j.until(12 * HOUR);
    expect(j.entries).toMatchSnapshot(`rules ${rulesVersion}`);
  }
});

test('opened on a Friday afternoon in the office calendar: the windows, their warnings and reminders cross the weekend in business time; a pause holds only the clocks it may', () => {
  const f = Date.parse('2026-12-11T15:00:00Z') - T0; // Friday 16:00 in Berlin, an hour before closing
  const j = journal({ openedAt: f, input: { severity: 'high' }, calendar: OFFICE, policy: { warnBefore: '2h', remindEvery: '3h', followUpAfter: '1h' } });
  j.act(f + 2 * DAY + 19 * HOUR, { type: 'acknowledge', by: 'sam', nextUpdateAt: isoIn(f + 3 * DAY + 18 * HOUR) }); // Monday 11:00
  j.act(f + 2 * DAY + 20 * HOUR, { type: 'pause', by: 'sam', reason: 'waiting_on_customer', until: isoIn(f + 2 * DAY + 23 * HOUR) });
  j.until(f + 3 * DAY + 17 * HOUR);
  j.act(f + 3 * DAY + 18 * HOUR, { type: 'resolve', by: 'sam', rootCause: 'A stale cache.', fix: 'Cache flushed at 09:00 UTC.', prevention: 'The cache now expires hourly.' });
  j.act(f + 3 * DAY + 19 * HOUR, { type: 'confirmation', by: 'dana', resolved: true });
  j.until(f + 6 * DAY);
  expect(j.entries).toMatchSnapshot();
});
