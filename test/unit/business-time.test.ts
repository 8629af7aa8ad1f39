import {
  DEFAULT_POLICY,
  RULES_VERSION,
  act,
  businessAfter,
  businessBefore,
  businessBetween,
  calendarProblem,
  caseView,
  deadlinesOf,
  nextWake,
  openCase,
  tick,
  validate,
  PlaybookError,
  type Action,
  type Calendar,
  type CaseState,
  type Outbound,
  type Policy,
} from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const HOUR = 3_600_000;
const MIN = 60_000;
const z = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const weekdays = (ranges: string[]) => ({ mon: ranges, tue: ranges, wed: ranges, thu: ranges, fri: ranges });
const NEW_YORK: Calendar = { name: 'us-east', timezone: 'America/New_York', hours: weekdays(['09:00-17:00']), holidays: ['2026-12-25'] };
const BERLIN: Calendar = { name: 'eu', timezone: 'Europe/Berlin', hours: weekdays(['09:00-12:00', '13:00-17:00']), holidays: [] };

describe('business time in a calendar', () => {
  test('New York, autumn: 4 business hours from Friday 16:00 EDT end Monday 12:00 EST, across the change back to standard time', () => {
    // Friday 30 Oct 2026 16:00 EDT (UTC-4) = 20:00Z; clocks go back on Sunday 1 Nov; Monday 12:00 EST (UTC-5) = 17:00Z.
    expect(iso(businessAfter(NEW_YORK, z('2026-10-30T20:00:00Z'), 4 * HOUR))).toBe('2026-11-02T17:00:00.000Z');
    // The plain sum would have said Friday 24:00 EDT; the naive offset-free sum would have said Monday 16:00Z (11:00 EST).
    expect(businessBetween(NEW_YORK, z('2026-10-30T20:00:00Z'), z('2026-11-02T17:00:00Z'))).toBe(4 * HOUR);
  });

  test('New York, spring: the opening hour after the change forward is 09:00 EDT (13:00Z), not 14:00Z', () => {
    // Friday 6 Mar 2026 16:30 EST = 21:30Z; clocks go forward on Sunday 8 Mar; Monday 09:00 EDT = 13:00Z.
    expect(iso(businessAfter(NEW_YORK, z('2026-03-06T21:30:00Z'), 1 * HOUR))).toBe('2026-03-09T13:30:00.000Z');
  });

  test('a day open around the clock has 23 hours on the night clocks go forward and 25 when they go back', () => {
    const always: Calendar = { name: 'always', timezone: 'America/New_York', hours: { sun: ['00:00-24:00'] }, holidays: [] };
    expect(businessBetween(always, z('2026-03-08T00:00:00Z'), z('2026-03-09T12:00:00Z'))).toBe(23 * HOUR);
    expect(businessBetween(always, z('2026-11-01T00:00:00Z'), z('2026-11-02T12:00:00Z'))).toBe(25 * HOUR);
  });

  test('Berlin, spring, with a lunch break: 4 hours from Friday 15:00 CET end Monday 10:00 CEST', () => {
    // Friday 27 Mar 2026 15:00 CET = 14:00Z: 2h on Friday; clocks go forward on Sunday 29 Mar; Monday 09:00-11:00 CEST = 07:00Z-09:00Z.
    expect(iso(businessAfter(BERLIN, z('2026-03-27T14:00:00Z'), 4 * HOUR))).toBe('2026-03-30T09:00:00.000Z');
    // The lunch hour does not count: 09:00 + 4h of work is 14:00, not 13:00.
    expect(iso(businessAfter(BERLIN, z('2026-03-30T07:00:00Z'), 4 * HOUR))).toBe('2026-03-30T12:00:00.000Z');
  });

  test('Berlin, autumn: Monday after the change back opens at 09:00 CET (08:00Z)', () => {
    // Friday 23 Oct 16:30 CEST (14:30Z): 30 minutes on Friday, 30 on Monday from 09:00 CET.
    expect(iso(businessAfter(BERLIN, z('2026-10-23T14:30:00Z'), 1 * HOUR))).toBe('2026-10-26T08:30:00.000Z');
  });

  test('holidays and closed days are skipped: Christmas Day and the weekend', () => {
    // Thursday 24 Dec 2026 16:00 EST = 21:00Z: 1h on Thursday, Friday 25 is a holiday, then Monday 28 09:00-12:00 EST.
    expect(iso(businessAfter(NEW_YORK, z('2026-12-24T21:00:00Z'), 4 * HOUR))).toBe('2026-12-28T17:00:00.000Z');
  });

  test('a window longer than a working day runs over several days; one opened at night starts at the next opening', () => {
    // 24 business hours = three 8-hour days: opened Monday 5 Jan 2026 at 03:00 EST → Wednesday 17:00 EST.
    expect(iso(businessAfter(NEW_YORK, z('2026-01-05T08:00:00Z'), 24 * HOUR))).toBe('2026-01-07T22:00:00.000Z');
  });

  test('before(): a warning one business hour before Monday 09:30 lands on Friday 16:30', () => {
    expect(iso(businessBefore(NEW_YORK, z('2026-01-12T14:30:00Z'), HOUR))).toBe('2026-01-09T21:30:00.000Z');
  });

  test('a calendar is checked: unknown zone, bad range, bad holiday, no hours at all', () => {
    expect(calendarProblem(NEW_YORK)).toBeNull();
    expect(calendarProblem({ ...NEW_YORK, timezone: 'Mars/Olympus' })).toMatch(/time zone/);
    expect(calendarProblem({ ...NEW_YORK, hours: { mon: ['17:00-09:00'] } })).toMatch(/hours\.mon/);
    expect(calendarProblem({ ...NEW_YORK, holidays: ['25/12/2026'] })).toMatch(/holiday/);
    expect(calendarProblem({ ...NEW_YORK, hours: {} })).toMatch(/no business hours/);
  });
});

/** A case of today's rules, driven by hand at the moments the workflow would act. */
function open(o: { calendar?: Calendar | null; policy?: Policy; at?: string; severity?: 'critical' | 'high' | 'medium' | 'low'; rulesVersion?: number } = {}) {
  const T0 = z(o.at ?? '2026-01-05T14:00:00Z'); // Monday 09:00 EST
  const t = openCase({
    id: 'c1',
    input: caseInput({ severity: o.severity ?? 'high' }),
    policy: o.policy ?? DEFAULT_POLICY,
    now: T0,
    rulesVersion: o.rulesVersion ?? RULES_VERSION,
    calendar: o.calendar ?? null,
  });
  let state: CaseState = t.state;
  const sent: Outbound[] = [...t.effects];
  const run = (until: number) => {
    for (let w = nextWake(state); w && w.at <= until; w = nextWake(state)) {
      const x = tick(state, w.at);
      state = x.state;
      sent.push(...x.effects);
    }
  };
  return {
    T0,
    get state() {
      return state;
    },
    sent,
    /** Timers up to `when` fire first (the worker was up), then the action lands. */
    act(when: string, action: Action) {
      run(z(when) - 1);
      const x = act(state, action, z(when));
      state = x.state;
      sent.push(...x.effects);
      return x;
    },
    run: (when: string) => run(z(when)),
  };
}

describe('a case on a calendar (rules 4)', () => {
  test('the business windows run in business hours; the others on calendar time; the view names the calendar', () => {
    // Opened Friday 9 Jan 2026 16:00 EST (21:00Z), high: acknowledge 1h, respond 4h, resolve 24h of business time.
    const c = open({ calendar: NEW_YORK, at: '2026-01-09T21:00:00Z' });
    const d = deadlinesOf(c.state);
    expect(d.acknowledge).toBe('2026-01-09T22:00:00.000Z'); // Friday 17:00
    expect(d.respond).toBe('2026-01-12T17:00:00.000Z'); // Monday 12:00
    expect(d.resolve).toBe('2026-01-14T21:00:00.000Z'); // 1h Fri + 8h Mon + 8h Tue + 7h Wed → Wednesday 16:00
    expect(caseView(c.state).calendar).toBe('us-east');
    // The warning before the respond deadline is the last quarter of its business window (1h): Monday 11:00.
    c.act('2026-01-09T21:30:00Z', { type: 'acknowledge', nextUpdateAt: '2026-01-12T16:00:00Z' });
    const warn = c.sent.length;
    c.run('2026-01-12T15:59:00Z');
    expect(c.sent.slice(warn).some((m) => m.kind === 'deadline_warning')).toBe(false); // not over the weekend
    c.run('2026-01-12T16:00:00Z');
    expect(c.sent.slice(warn).filter((m) => m.kind === 'deadline_warning').length).toBeGreaterThan(0);
  });

  test('only the windows the policy names run in business time', () => {
    const c = open({ calendar: NEW_YORK, at: '2026-01-09T21:00:00Z', policy: { ...DEFAULT_POLICY, businessHours: ['respond'] } });
    const d = deadlinesOf(c.state);
    expect(d.acknowledge).toBe('2026-01-09T22:00:00.000Z');
    expect(d.respond).toBe('2026-01-12T17:00:00.000Z');
    expect(d.resolve).toBe('2026-01-10T21:00:00.000Z'); // 24h of calendar time
  });

  test('a case without a calendar, or of rules 3, runs on calendar time', () => {
    const plain = open({ at: '2026-01-09T21:00:00Z' });
    expect(deadlinesOf(plain.state).respond).toBe('2026-01-10T01:00:00.000Z');
    const older = open({ calendar: NEW_YORK, at: '2026-01-09T21:00:00Z', rulesVersion: 3 });
    expect(older.state.calendar).toBeUndefined();
    expect(deadlinesOf(older.state).respond).toBe('2026-01-10T01:00:00.000Z');
  });
});

describe('pause and resume', () => {
  const investigating = () => {
    const c = open(); // Monday 5 Jan 2026 14:00Z, high: respond due 18:00Z, resolve due Tuesday 14:00Z
    c.act('2026-01-05T14:10:00Z', { type: 'acknowledge', nextUpdateAt: '2026-01-05T17:00:00Z' });
    return c;
  };

  test('paused: the customer-facing clocks show null with their time left; resumed: every open deadline moved by the pause', () => {
    const c = investigating();
    c.act('2026-01-05T15:00:00Z', { type: 'pause', reason: 'waiting_on_customer', note: 'Need their logs' });
    const paused = caseView(c.state, z('2026-01-05T16:00:00Z'));
    expect(paused.deadlines.respond).toBeNull();
    expect(paused.deadlines.resolve).toBeNull();
    expect(paused.paused).toMatchObject({ since: '2026-01-05T15:00:00.000Z', reason: 'waiting_on_customer', remaining: { respond: 3 * 3600, resolve: 23 * 3600 } });
    expect(paused.pausedSeconds).toBe(3600);
    expect(paused.nextDeadline).toBeNull();
    // Nothing fires while paused: no breach of the respond window that would have been due at 18:00.
    c.run('2026-01-06T20:00:00Z');
    expect(c.state.breaches).toEqual([]);
    c.act('2026-01-06T21:00:00Z', { type: 'resume', note: 'Logs arrived' }); // paused 30h
    const d = deadlinesOf(c.state);
    expect(d.respond).toBe('2026-01-07T00:00:00.000Z'); // 18:00 + 30h
    expect(d.resolve).toBe('2026-01-07T20:00:00.000Z'); // Tuesday 14:00 + 30h
    expect(caseView(c.state).paused).toBeNull();
    expect(caseView(c.state).pausedSeconds).toBe(30 * 3600);
    expect(c.state.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });

  test('the acknowledge clock never pauses, and pausing is refused outside investigate and communicate', () => {
    const c = open();
    expect(() => validate(c.state, { type: 'pause', reason: 'waiting_on_customer' }, c.T0 + MIN)).toThrow(PlaybookError);
    c.act('2026-01-05T14:10:00Z', { type: 'acknowledge' });
    c.act('2026-01-05T14:20:00Z', { type: 'pause', reason: 'waiting_on_third_party' });
    expect(() => validate(c.state, { type: 'pause', reason: 'waiting_on_customer' }, c.T0 + HOUR)).toThrow(/already paused/);
  });

  test('a case takes at most 100 pauses: the 101st is refused as limit_reached and changes nothing', () => {
    const c = investigating();
    let at = z('2026-01-05T15:00:00Z');
    for (let i = 0; i < 100; i++) {
      c.act(iso((at += MIN)), { type: 'pause', reason: 'waiting_on_customer' });
      c.act(iso((at += MIN)), { type: 'resume' });
    }
    expect(c.state.pauses).toHaveLength(100);
    const err = (() => {
      try {
        validate(c.state, { type: 'pause', reason: 'waiting_on_customer' }, at + MIN);
      } catch (e) {
        return e as PlaybookError;
      }
    })();
    expect(err?.code).toBe('limit');
    expect(err?.details).toMatchObject({ limit: 'pauses', max: 100, current: 100 });
    expect(caseView(c.state, at).pausedSeconds).toBe(100 * 60);
  });

  test('a pause given an end resumes by itself at that moment', () => {
    const c = investigating();
    c.act('2026-01-05T15:00:00Z', { type: 'pause', reason: 'waiting_on_third_party', until: '2026-01-05T19:00:00Z' });
    expect(nextWake(c.state)).toEqual({ at: z('2026-01-05T19:00:00Z'), summary: 'resume the paused clocks' });
    c.run('2026-01-05T19:00:00Z');
    expect(c.state.pause).toBeNull();
    expect(deadlinesOf(c.state).respond).toBe('2026-01-05T22:00:00.000Z'); // 18:00 + 4h
  });

  test('a customer reply resumes a paused case, lands on the timeline and tells the CSM', () => {
    const c = investigating();
    c.act('2026-01-05T15:00:00Z', { type: 'pause', reason: 'waiting_on_customer' });
    const t = c.act('2026-01-05T16:00:00Z', { type: 'reply', from: 'pat@example.com', text: 'Here are the logs you asked for.' });
    expect(c.state.pause).toBeNull();
    expect(c.state.replies).toEqual([{ at: '2026-01-05T16:00:00.000Z', from: 'pat@example.com', text: 'Here are the logs you asked for.' }]);
    expect(c.state.timeline.slice(-2).map((e) => e.type)).toEqual(['customer_reply', 'resumed']);
    expect(t.effects.map((m) => [m.kind, m.channel, m.to])).toEqual([
      ['customer_reply', 'email', ['csm']],
      ['customer_reply', 'slack', ['csm']],
    ]);
    expect(deadlinesOf(c.state).respond).toBe('2026-01-05T19:00:00.000Z');
  });

  test('a reply while the fix awaits confirmation is flagged to the CSM with the customer’s words, and changes nothing else', () => {
    const c = investigating();
    c.act('2026-01-05T15:00:00Z', { type: 'resolve', rootCause: 'A bad index', fix: 'Rebuilt the index', prevention: 'Alerting on index health' });
    const t = c.act('2026-01-05T16:00:00Z', { type: 'reply', from: 'pat@example.com', text: 'Still broken for us.' });
    expect(c.state.stage).toBe('resolve');
    expect(t.effects[0].data).toMatchObject({ awaitingConfirmation: true, text: 'Still broken for us.' });
  });

  test('a pause during a business window moves the deadline by the business time paused', () => {
    // Opened Monday 09:00 EST; paused Monday 10:00 → Tuesday 10:00 EST: 8 business hours held.
    const c = open({ calendar: NEW_YORK });
    c.act('2026-01-05T14:10:00Z', { type: 'acknowledge', nextUpdateAt: '2026-01-05T17:00:00Z' });
    expect(deadlinesOf(c.state).respond).toBe('2026-01-05T18:00:00.000Z'); // Monday 13:00 EST
    c.act('2026-01-05T15:00:00Z', { type: 'pause', reason: 'waiting_on_customer' });
    c.act('2026-01-06T15:00:00Z', { type: 'resume' });
    expect(deadlinesOf(c.state).respond).toBe('2026-01-06T18:00:00.000Z'); // Tuesday 13:00 EST
  });
});

describe('current details in the Temporal UI', () => {
  test('lead with the stage and the next deadline in the contact’s and the CSM’s time, overdue when past, and the last action', async () => {
    const { caseDetails } = await import('../../playbook');
    const c = open({ at: '2026-01-05T14:00:00Z' });
    c.state.input.contact.timezone = 'America/New_York';
    c.state.input.csm.timezone = 'Europe/Berlin';
    c.act('2026-01-05T14:10:00Z', { type: 'acknowledge', by: 'Sam', nextUpdateAt: '2026-01-05T16:00:00Z' });
    const onTime = caseDetails(c.state, z('2026-01-05T14:20:00Z'));
    expect(onTime.split('\n')[0]).toBe('**Stage:** investigate (open) · **Severity:** High');
    expect(onTime).toContain('**Next deadline:** first progress update — Mon, Jan 5, 1:00 PM EST for the customer, Mon, Jan 5, 7:00 PM GMT+1 for the CSM');
    expect(onTime).toContain('**Last action:** Acknowledged; next update promised by 2026-01-05T16:00:00Z — Sam, Mon, Jan 5, 3:10 PM GMT+1');
    expect(onTime).not.toContain('overdue');
    const late = caseDetails(c.state, z('2026-01-05T20:30:00Z'));
    expect(late).toContain('**overdue by 2h 30m**');
  });
});
