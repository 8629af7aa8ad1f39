/**
 * The edges of the playbook's rules, one by one: the boundaries a mutation test (`npm run mutation`)
 * showed no other test would notice moving.
 */
import { DEFAULT_POLICY, INTERNAL_ESCALATION_PATH, RULES_VERSION, SEVERITY_TABLE, TRIGGERS, act, findTrigger, lintCustomerText, mentionsTime, noNextUpdateFinding, openCase, openDeadlines, routeTo, tick, type CaseState, type Policy } from '../../playbook';
import { DEFAULT_BUSINESS_WINDOWS, after, before, between, calendarFor } from '../../playbook/windows';
import { businessAfter, businessBefore, businessBetween, calendarProblem, parseRange, type Calendar } from '../../playbook/calendar';
import { whatWeTried } from '../../playbook/transitions';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

const opened = (policy: Partial<Policy> = {}, rulesVersion = RULES_VERSION) => openCase({ id: 'c1', input: caseInput(), policy: { ...DEFAULT_POLICY, ...policy }, now: T0, rulesVersion }).state;
const ackDeadline = (policy: Partial<Policy>) => openDeadlines(opened(policy)).find((d) => d.kind === 'acknowledge')!;

describe('deadlines: a warning falls strictly inside its window, or there is none', () => {
  test('inside: the last quarter of the hour to acknowledge', () => {
    expect(ackDeadline({}).warnAt).toBe(T0 + 45 * MIN);
  });
  test('a warning as long as the window would fall on its start: none', () => {
    expect(ackDeadline({ warnBefore: '2h' }).warnAt).toBeNull();
    expect(ackDeadline({ warnBefore: 1 }).warnAt).toBeNull();
  });
  test('a warning of nothing would fall on the due time: none', () => {
    expect(ackDeadline({ warnBefore: 0 }).warnAt).toBeNull();
    expect(ackDeadline({ warnBefore: '0s' }).warnAt).toBeNull();
  });
});

describe('lint: the apology rule', () => {
  test('the first apology of a case passes; a second, in the same text or a later one, is flagged', () => {
    expect(lintCustomerText({ note: 'We are sorry for the trouble.' }, { apologiesSoFar: 0 }).warnings).toEqual([]);
    expect(lintCustomerText({ note: 'We are sorry for the trouble.' }, { apologiesSoFar: 1 }).warnings.map((w) => [w.code, w.field])).toEqual([['repeated_apology', 'note']]);
    expect(lintCustomerText({ known: 'Root cause found.', note: 'We apologize. Sorry again.' }, { apologiesSoFar: 0 }).warnings.map((w) => [w.code, w.field])).toEqual([['repeated_apology', 'note']]);
  });
  test('a text without an apology is never flagged, whatever the case said before', () => {
    const r = lintCustomerText({ note: 'The fix is deployed.' }, { apologiesSoFar: 3 });
    expect(r).toEqual({ errors: [], warnings: [], apologies: 0 });
  });
});

describe('routing: the internal escalation path', () => {
  test("Billing/Contract goes to Finance, and to Legal only when they are needed", () => {
    expect(routeTo('billing_contract')).toEqual(['finance']);
    expect(routeTo('billing_contract', { includeIfNeeded: true })).toEqual(['finance', 'legal']);
    expect(routeTo('churn_threat', { includeIfNeeded: true })).toEqual(['vpCs', 'execSponsor']);
  });
  test('each route as the playbook writes it', () => {
    expect(Object.fromEntries(Object.entries(INTERNAL_ESCALATION_PATH).map(([k, r]) => [k, [r.when, r.to.join(' → '), r.template, r.topic]]))).toEqual({
      unresolved: ["Can't resolve in 24 hours", 'csmManager', 'leadership', 'Unresolved'],
      executive_involved: ['Customer executive involved', 'vpCs', 'leadership', 'Executive Involved'],
      churn_threat: ['Churn threat', 'vpCs → execSponsor', 'leadership', 'Churn Risk'],
      engineering_required: ['Engineering required', 'supportLead → engineering', 'support', 'Engineering Required'],
      billing_contract: ['Billing/Contract', 'finance', 'support', 'Billing/Contract'],
      product_gap: ['Product gap causing issue', 'product', 'support', 'Product Gap'],
    });
  });
});

describe('transitions: the unresolved escalation says which window passed', () => {
  const escalate = (rulesVersion: number) => {
    const s = act(opened({ escalateUnresolvedAfter: '36h' }, rulesVersion), { type: 'acknowledge', nextUpdateAt: new Date(T0 + 2 * HOUR).toISOString() }, T0 + MIN).state;
    return act(s, { type: 'internal_escalation', trigger: 'unresolved', note: 'stuck' }, T0 + 2 * MIN);
  };
  test("rules 4 and later: the case's own window", () => {
    const t = escalate(4);
    expect(t.state.timeline.at(-1)!.summary).toBe("Can't resolve within 36h → csmManager");
    expect(t.effects.find((e) => e.channel === 'email')!.data.reason).toBe("Can't resolve within 36h");
  });
  test("before: the playbook's 24 hours, as those cases said it", () => {
    expect(escalate(3).state.timeline.at(-1)!.summary).toBe("Can't resolve in 24 hours → csmManager");
  });
});

describe('triggers: a known trigger is found by its id or its label, however it is cased or separated', () => {
  test.each([
    ['business', 'contract_confusion'],
    ['business', 'Contract confusion'],
    ['business', '  CONTRACT-CONFUSION '],
    ['business', 'contract   confusion'],
    ['relationship', 'Executive_Complaint'],
    ['technical', 'data missing or INCORRECT'],
  ] as const)('%s: %j', (category, text) => {
    expect(findTrigger(category, text)).toBeDefined();
  });
  test('a free-text trigger, or a known one in another category, is not one', () => {
    expect(findTrigger('business', 'contract')).toBeUndefined();
    expect(findTrigger('business', 'data_issue')).toBeUndefined();
    expect(findTrigger('business', 'contractconfusion')).toBeUndefined();
  });
});

describe('windows: without a calendar every window runs on calendar time', () => {
  const s = opened();
  test('after, before and between add, take away and measure plain milliseconds', () => {
    expect(s.calendar ?? null).toBeNull();
    expect(calendarFor(s, 'respond')).toBeNull();
    expect(after(s, 'respond', T0, '4h')).toBe(T0 + 4 * HOUR);
    expect(after(s, 'respond', T0, 90_000)).toBe(T0 + 90_000);
    expect(before(s, 'warn', T0 + 4 * HOUR, '1h', 'respond')).toBe(T0 + 3 * HOUR);
    expect(between(s, 'warn', T0, T0 + 4 * HOUR, 'respond')).toBe(4 * HOUR);
    expect(between(s, 'warn', T0 + HOUR, T0)).toBe(0); // never negative
  });
});

describe('lint: each finding as the playbook words it, and what counts as a time', () => {
  test('the three phrases, their messages and the one suggestion', () => {
    const r = lintCustomerText({ note: "I'll look into it.", known: 'That should not have happened.', doing: 'Let me check with our team.' }, { apologiesSoFar: 0 });
    expect(r.errors).toEqual([
      { code: 'vague_phrase', field: 'note', phrase: "I'll look into it", message: '"I\'ll look into it" is too vague: say what you are doing and when the customer hears back', suggestion: expect.any(String) },
      { code: 'irrelevant_phrase', field: 'known', phrase: 'That should not have happened', message: '"That shouldn\'t happen" is irrelevant to the customer: acknowledge the impact instead', suggestion: expect.any(String) },
      { code: 'no_timeline', field: 'doing', phrase: 'Let me check with our team', message: '"Let me check with the team" needs a timeline: say by when you will be back', suggestion: expect.any(String) },
    ]);
    const w = lintCustomerText({ note: 'Sorry. We apologise.' }, { apologiesSoFar: 0 }).warnings;
    expect(w).toEqual([
      {
        code: 'repeated_apology',
        field: 'note',
        message: 'This case has already apologized: apologize sincerely, once, and focus on the resolution',
        suggestion: "Here's what we're doing to fix it and make sure it doesn't happen again.",
      },
    ]);
    expect(noNextUpdateFinding()).toMatchObject({ code: 'no_next_update', field: 'nextUpdateAt', suggestion: "I'll update you again by [time] or sooner if we resolve it." });
    expect(noNextUpdateFinding('until').field).toBe('until');
  });

  test.each([
    'by 3', 'before an hour passes', 'within a day', 'in  one hour', 'in two days', 'in three hours', 'by a few minutes past', 'until noon', 'before midnight',
    'by tomorrow', 'by today', 'by tonight', 'by end of day', 'by EOD', 'by Monday', 'before Tuesday', 'by wednesday', 'by Thursday', 'by Friday', 'by Saturday', 'by Sunday',
    'at 3pm', 'at 11:30 am', 'at 14:05', 'on 2026-12-09', 'tomorrow morning',
  ])('a time: %j', (text) => {
    expect(mentionsTime(`Let me check with the team ${text}.`)).toBe(true);
    expect(lintCustomerText({ note: `Let me check with the team, back ${text}.` }, { apologiesSoFar: 0 }).errors).toEqual([]);
  });
  test.each(['by phone', 'in the logs', 'within reason', 'by d', 'inbox 3', 'by3', 'section 1:2', '2026-12'])('not a time: %j', (text) => {
    expect(mentionsTime(`Let me check with the team ${text}.`)).toBe(false);
  });
  test('apologies are counted, each, in every spelling', () => {
    expect(lintCustomerText({ note: 'Sorry, we apologize; our apologies; we apologise.' }, { apologiesSoFar: 0 }).apologies).toBe(4);
    expect(lintCustomerText({ note: 'sorrowful apologist' }, { apologiesSoFar: 0 }).apologies).toBe(0);
  });
});

describe('the playbook tables, as written', () => {
  test('severities: label, definition, response time, who is involved', () => {
    expect(Object.fromEntries(Object.entries(SEVERITY_TABLE).map(([k, v]) => [k, [v.label, v.definition, v.responseTime, v.involved.join('+')]]))).toEqual({
      critical: ['Critical', 'System down, major data loss, blocking operations', '1h', 'csm+supportLead+engineering'],
      high: ['High', 'Significant feature broken, workaround difficult', '4h', 'csm+support'],
      medium: ['Medium', 'Feature issue with workaround', '24h', 'csm'],
      low: ['Low', 'Minor inconvenience', '48h', 'support'],
    });
  });
  test('triggers by category: id, label and what each starts by itself', () => {
    expect(Object.fromEntries(Object.entries(TRIGGERS).map(([k, v]) => [k, v.map((x) => `${x.id}: ${x.label}${x.escalates ? ` → ${x.escalates.trigger}${x.escalates.includeIfNeeded ? ' (+if needed)' : ''}` : ''}`)]))).toEqual({
      technical: ['platform_down: Platform down or slow', 'integration_broken: Integration broken', 'data_issue: Data missing or incorrect', 'feature_not_working: Feature not working as expected'],
      business: ['billing_dispute: Billing dispute → billing_contract', 'contract_confusion: Contract confusion → billing_contract (+if needed)', 'feature_request_urgency: Feature request urgency → product_gap', 'sla_breach: SLA breach'],
      relationship: ['champion_frustrated: Champion frustrated', 'executive_complaint: Executive complaint → executive_involved', 'competitive_threat: Competitive threat → churn_threat', 'renewal_at_risk: Renewal at risk → churn_threat'],
    });
    // Every label is found as written, and so is every id.
    for (const [category, list] of Object.entries(TRIGGERS)) for (const x of list) expect([findTrigger(category as 'technical', x.label)?.id, findTrigger(category as 'technical', x.id)?.id]).toEqual([x.id, x.id]);
  });
});

describe('windows: with a calendar, which windows count business time', () => {
  const office = { name: 'office', timezone: 'Europe/Berlin', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] };
  const withCal = (businessHours?: Policy['businessHours']) => openCase({ id: 'c2', input: caseInput(), policy: { ...DEFAULT_POLICY, ...(businessHours ? { businessHours } : {}) }, now: T0, calendar: office, rulesVersion: RULES_VERSION }).state;
  test('by default acknowledge, respond, next update and resolve; their warnings and reminders follow them; the rest is calendar time', () => {
    const s = withCal();
    const on = (kind: Parameters<typeof calendarFor>[1], of?: Parameters<typeof calendarFor>[2]) => (calendarFor(s, kind, of) ? 'business' : 'calendar');
    expect(DEFAULT_BUSINESS_WINDOWS).toEqual(['acknowledge', 'respond', 'next_update', 'resolve']);
    expect(['acknowledge', 'respond', 'next_update', 'resolve', 'confirmation', 'follow_up', 'recovery_call', 'health_check'].map((k) => on(k as 'respond'))).toEqual([
      'business', 'business', 'business', 'business', 'calendar', 'calendar', 'calendar', 'calendar',
    ]);
    expect([on('warn', 'respond'), on('remind', 'resolve'), on('warn', 'follow_up'), on('warn'), on('default_promise'), on('auto_follow_up'), on('qbr_reminder'), on('soonest_promise')]).toEqual([
      'business', 'business', 'calendar', 'calendar', 'business', 'calendar', 'calendar', 'calendar',
    ]);
    // Friday 16:00 in Berlin + 2 business hours: Monday 10:00.
    const fri = Date.parse('2026-12-11T15:00:00Z');
    expect(new Date(after(s, 'respond', fri, '2h')).toISOString()).toBe('2026-12-14T09:00:00.000Z');
    expect(new Date(before(s, 'warn', Date.parse('2026-12-14T09:00:00Z'), '2h', 'respond')).toISOString()).toBe('2026-12-11T15:00:00.000Z');
    expect(between(s, 'warn', fri, Date.parse('2026-12-14T09:00:00Z'), 'respond')).toBe(2 * HOUR);
  });
  test("the policy's own list replaces the default one", () => {
    const s = withCal(['resolve']);
    expect([calendarFor(s, 'respond'), calendarFor(s, 'default_promise')]).toEqual([null, null]);
    expect(calendarFor(s, 'resolve')?.name).toBe('office');
    expect(calendarFor(s, 'remind', 'resolve')?.name).toBe('office');
  });
});

describe('calendar: ranges, days and the arithmetic at their edges', () => {
  const UTC_OFFICE: Calendar = { name: 'utc', timezone: 'UTC', hours: { mon: ['13:00-17:00', '09:00-12:00'], tue: ['09:00-24:00'], wed: ['bad', '09:00-09:00', '10:00-11:00'] }, holidays: [] };
  const z = (s: string) => Date.parse(s);
  const iso2 = (ms: number) => new Date(ms).toISOString();
  test('a range is HH:MM-HH:MM within one day, its end after its start, 24:00 allowed as an end', () => {
    expect(parseRange('09:30-17:15')).toEqual([570, 1035]);
    expect(parseRange('00:00-24:00')).toEqual([0, 1440]);
    expect(parseRange('23:59-24:00')).toEqual([1439, 1440]);
    expect(parseRange('20:00-23:59')).toEqual([1200, 1439]);
    for (const bad of ['09:00-09:00', '17:00-09:00', '24:00-24:00', '09:00-25:00', '29:00-30:00', '9:00-17:00', ' 09:00-17:00', '09:00-17:00 ', 'x09:00-17:00', '09:00-17:00x', '09:60-17:00']) expect([bad, parseRange(bad)]).toEqual([bad, null]);
  });
  test('after: ranges taken in order of the day however written; a window of nothing starts at the next opening; a day open until midnight runs to it', () => {
    // Monday 08:00: the first opening is 09:00, whatever the order the ranges were written in.
    expect(iso2(businessAfter(UTC_OFFICE, z('2026-12-07T08:00:00Z'), 0))).toBe('2026-12-07T09:00:00.000Z');
    expect(iso2(businessAfter(UTC_OFFICE, z('2026-12-07T08:00:00Z'), 4 * HOUR))).toBe('2026-12-07T14:00:00.000Z');
    // Monday 12:00 exactly (a range's end): nothing left of it; 13:00 is next.
    expect(iso2(businessAfter(UTC_OFFICE, z('2026-12-07T12:00:00Z'), 0))).toBe('2026-12-07T13:00:00.000Z');
    // Tuesday open to midnight, Wednesday's only good range 10:00-11:00.
    expect(iso2(businessAfter(UTC_OFFICE, z('2026-12-08T23:00:00Z'), 2 * HOUR))).toBe('2026-12-09T11:00:00.000Z');
    expect(iso2(businessAfter(UTC_OFFICE, z('2026-12-08T23:00:00Z'), HOUR))).toBe('2026-12-09T00:00:00.000Z');
  });
  test('before: back across ranges and days; a moment at a range start counts nothing of it', () => {
    expect(iso2(businessBefore(UTC_OFFICE, z('2026-12-07T14:00:00Z'), 2 * HOUR))).toBe('2026-12-07T11:00:00.000Z');
    expect(iso2(businessBefore(UTC_OFFICE, z('2026-12-07T13:00:00Z'), HOUR))).toBe('2026-12-07T11:00:00.000Z');
    expect(iso2(businessBefore(UTC_OFFICE, z('2026-12-07T17:00:00Z'), 4 * HOUR))).toBe('2026-12-07T13:00:00.000Z');
    expect(iso2(businessBefore(UTC_OFFICE, z('2026-12-09T10:30:00Z'), HOUR))).toBe('2026-12-08T23:30:00.000Z');
  });
  test('between: nothing when the end is not after the start; the part of each range inside', () => {
    expect(businessBetween(UTC_OFFICE, z('2026-12-07T14:00:00Z'), z('2026-12-07T14:00:00Z'))).toBe(0);
    expect(businessBetween(UTC_OFFICE, z('2026-12-07T15:00:00Z'), z('2026-12-07T14:00:00Z'))).toBe(0);
    expect(businessBetween(UTC_OFFICE, z('2026-12-07T10:00:00Z'), z('2026-12-07T14:00:00Z'))).toBe(3 * HOUR);
    expect(businessBetween(UTC_OFFICE, z('2026-12-07T00:00:00Z'), z('2026-12-08T00:00:00Z'))).toBe(7 * HOUR);
    expect(businessBetween(UTC_OFFICE, z('2026-12-06T00:00:00Z'), z('2026-12-07T09:00:00Z'))).toBe(0);
  });
  test('a calendar is refused for a bad day name, a bad range, a holiday that is not a plain date, or no hours at all', () => {
    const ok = { timezone: 'UTC', hours: { mon: ['09:00-17:00'] }, holidays: ['2026-12-24'] };
    expect(calendarProblem(ok)).toBeNull();
    expect(calendarProblem({ ...ok, hours: { ...ok.hours, funday: ['09:00-17:00'] } } as never)).toBe('"funday" is not a day (use mon, tue, wed, thu, fri, sat, sun)');
    expect(calendarProblem({ ...ok, hours: { mon: ['09:00-17:00', '9-5'] } })).toBe('hours.mon: "9-5" is not a range such as "09:00-17:00"');
    for (const h of ['2026-12-24T00:00', 'x2026-12-24', '2026-12-24x', '2026-13-01', '24.12.2026']) expect(calendarProblem({ ...ok, holidays: [h] })).toBe(`holiday "${h}" is not a date YYYY-MM-DD`);
    expect(calendarProblem({ ...ok, hours: { mon: [], tue: [] } })).toBe('no business hours on any day');
    expect(calendarProblem({ ...ok, hours: {} })).toBe('no business hours on any day');
  });
});

describe('calendar: the ten-year horizon, zero-length moments, days written without hours', () => {
  const z = (s: string) => Date.parse(s);
  const iso2 = (ms: number) => new Date(ms).toISOString();
  /** Open on Mondays only, every Monday of ten years a holiday from 2026-12-07 on: nothing within the horizon. */
  const mondays = (from: string, weeks: number) => Array.from({ length: weeks }, (_, i) => new Date(z(from) + i * 7 * 24 * HOUR).toISOString().slice(0, 10));
  const closedForever: Calendar = { name: 'closed', timezone: 'UTC', hours: { mon: ['09:00-17:00'] }, holidays: mondays('2026-12-07', 540) };
  test('after: no business hours within 3,700 days is an error naming the calendar and the moment', () => {
    expect(() => businessAfter(closedForever, z('2026-12-07T08:00:00Z'), HOUR)).toThrow('calendar "closed" has no business hours within 3700 days of 2026-12-07T08:00:00.000Z');
    // The last day of the horizon still counts: 3,699 days on, its hours are found.
    const lastDay = { ...closedForever, holidays: mondays('2026-12-07', 528) };
    const from = z('2026-12-07T08:00:00Z') - 4 * 24 * HOUR + 3 * 24 * HOUR; // Sunday 2026-12-06 08:00
    const due = businessAfter(lastDay, from, HOUR);
    expect(iso2(due)).toBe(`${mondays('2026-12-07', 529).at(-1)}T10:00:00.000Z`);
    expect((due - from) / (24 * HOUR)).toBeLessThan(3700);
  });
  test('before: no business hours within the horizon falls back on calendar time', () => {
    const past: Calendar = { ...closedForever, holidays: mondays('2016-01-04', 580) };
    expect(businessBefore(past, z('2026-12-08T08:00:00Z'), 2 * HOUR)).toBe(z('2026-12-08T06:00:00Z'));
  });
  test('before: nothing of business time before a range start is that range’s start, but the end of the one before', () => {
    const office: Calendar = { name: 'o', timezone: 'UTC', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] }, holidays: [] };
    expect(iso2(businessBefore(office, z('2026-12-08T09:00:00Z'), 0))).toBe('2026-12-07T17:00:00.000Z');
  });
  test('between: at most the horizon is counted', () => {
    const always: Calendar = { name: 'a', timezone: 'UTC', hours: { mon: ['00:00-24:00'], tue: ['00:00-24:00'], wed: ['00:00-24:00'], thu: ['00:00-24:00'], fri: ['00:00-24:00'], sat: ['00:00-24:00'], sun: ['00:00-24:00'] }, holidays: [] };
    const from = z('2026-01-01T00:00:00Z');
    expect(businessBetween(always, from, from + 3800 * 24 * HOUR)).toBe(3700 * 24 * HOUR);
  });
  test('a day written with no list is a closed day', () => {
    expect(calendarProblem({ timezone: 'UTC', hours: { mon: undefined, tue: ['09:00-17:00'] }, holidays: [] })).toBeNull();
    expect(calendarProblem({ timezone: 'UTC', hours: { mon: undefined }, holidays: [] })).toBe('no business hours on any day');
  });
});

describe('clock: what one tick fires, and what it keeps', () => {
  const H = HOUR;
  const high = (rulesVersion: number) => openCase({ id: 'c3', input: caseInput({ severity: 'high' }), policy: { ...DEFAULT_POLICY }, now: T0, rulesVersion }).state;
  const at = (h: number) => new Date(T0 + h * H).toISOString();
  test('a warning and a breach falling in one tick are two alerts: one per kind and audience', () => {
    const t = tick(high(RULES_VERSION), T0 + 3.5 * H);
    expect(t.effects.map((e) => [e.kind, e.channel, e.to])).toEqual([
      ['deadline_warning', 'email', ['csm']],
      ['deadline_warning', 'slack', ['csm']],
      ['breach', 'email', ['csm', 'csmManager']],
      ['breach', 'slack', ['csm', 'csmManager']],
    ]);
  });
  test('rules 2: a tick keeps only the fired keys of points that still exist', () => {
    const confirmed = (rv: number) => {
      let s: CaseState = high(rv);
      s = act(s, { type: 'acknowledge', nextUpdateAt: at(2) }, T0 + 0.1 * H).state;
      s = act(s, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, T0 + 0.2 * H).state;
      s = act(s, { type: 'confirmation', resolved: true }, T0 + 0.3 * H).state;
      return tick(s, T0 + 30 * H).state;
    };
    expect(confirmed(1).fired).toEqual(['auto:follow_up@2026-01-07T09:18:00.000Z']);
    expect(confirmed(2).fired).toEqual([]);
  });
  test('rules 2: a deadline that comes back at the moment it was missed (severity up, then down) is missed once', () => {
    for (const rv of [2, RULES_VERSION]) {
      let s: CaseState = high(rv);
      s = act(s, { type: 'acknowledge', nextUpdateAt: at(20) }, T0 + 0.1 * H).state;
      s = tick(s, T0 + 4.5 * H).state;
      s = act(s, { type: 'severity', severity: 'critical', reason: 'worse' }, T0 + 4.6 * H).state;
      s = tick(s, T0 + 4.7 * H).state;
      s = act(s, { type: 'severity', severity: 'high', reason: 'better' }, T0 + 4.8 * H).state;
      s = tick(s, T0 + 4.9 * H).state;
      expect([rv, s.breaches.map((b) => `${b.kind}@${b.dueAt}`)]).toEqual([rv, ['respond@2026-01-05T13:00:00.000Z', 'respond@2026-01-05T10:00:00.000Z']]);
    }
  });
});

describe('deadlines: pauses, the order of the open ones, and the windows named by kind', () => {
  const H = HOUR;
  const office: Calendar = { name: 'office', timezone: 'UTC', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] };
  const FRI_16 = Date.parse('2026-12-11T16:00:00Z');
  const at = (ms: number) => new Date(ms).toISOString();
  const openAt = (now: number, policy: Partial<Policy> = {}, o: { calendar?: Calendar; rulesVersion?: number; severity?: 'critical' | 'high' } = {}) =>
    openCase({ id: 'c4', input: caseInput({ severity: o.severity ?? 'high' }), policy: { ...DEFAULT_POLICY, ...policy }, now, rulesVersion: o.rulesVersion ?? RULES_VERSION, calendar: o.calendar ?? null }).state;
  const due = (s: CaseState, kind: string) => openDeadlines(s).find((d) => d.kind === kind)?.dueAt;

  test('a pause that held no business time moves nothing, even a deadline due at the end of a business day', () => {
    let s = openAt(FRI_16, { respondWithin: { ...DEFAULT_POLICY.respondWithin, high: '1h' } }, { calendar: office });
    expect(at(due(s, 'respond')!)).toBe('2026-12-11T17:00:00.000Z');
    s = act(s, { type: 'acknowledge', nextUpdateAt: at(FRI_16 + 3 * 24 * H) }, FRI_16 + 10 * MIN).state;
    s = act(s, { type: 'pause', reason: 'waiting_on_customer' }, FRI_16 + 20 * MIN).state;
    s = act(s, { type: 'resume' }, FRI_16 + 20 * MIN).state;
    expect(at(due(s, 'respond')!)).toBe('2026-12-11T17:00:00.000Z');
  });

  test('the open deadlines come soonest first, whatever order the windows are laid in', () => {
    const s = openAt(T0, { acknowledgeWithin: '2h', respondWithin: { ...DEFAULT_POLICY.respondWithin, critical: '1h' } }, { severity: 'critical' });
    expect(openDeadlines(s).map((d) => d.kind)).toEqual(['respond', 'acknowledge', 'resolve']);
  });

  test('no next-update deadline before the first progress update (the promise is the respond deadline’s to keep)', () => {
    const s = act(openAt(T0), { type: 'acknowledge', nextUpdateAt: at(T0 + 2 * H) }, T0 + 10 * MIN).state;
    expect(openDeadlines(s).map((d) => d.kind)).toEqual(['respond', 'resolve']);
  });

  test('reopened, the next update is due a severity window of business time after the reopening', () => {
    let s = openAt(FRI_16 - 6 * H, {}, { calendar: office });
    s = act(s, { type: 'acknowledge', nextUpdateAt: at(FRI_16) }, FRI_16 - 5 * H).state;
    s = act(s, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, FRI_16 - 4 * H).state;
    s = act(s, { type: 'confirmation', resolved: false, comment: 'still broken' }, FRI_16).state;
    // Friday 16:00 + 4 business hours (high): Monday 12:00.
    expect(at(due(s, 'next_update')!)).toBe('2026-12-14T12:00:00.000Z');
  });

  test('the confirmation window counts business time when the policy names it', () => {
    let s = openAt(FRI_16 - 6 * H, { businessHours: ['confirmation'], followUpWithin: '2h', followUpAfter: '1h' }, { calendar: office });
    s = act(s, { type: 'acknowledge', nextUpdateAt: at(FRI_16) }, FRI_16 - 5 * H).state;
    s = act(s, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, FRI_16).state;
    expect(at(due(s, 'confirmation')!)).toBe('2026-12-14T10:00:00.000Z');
  });

  test('rules 1 (no pruning of fired keys): a second pause with an end resumes by itself too', () => {
    let s = act(openAt(T0, {}, { rulesVersion: 1 }), { type: 'acknowledge', nextUpdateAt: at(T0 + 20 * H) }, T0 + 10 * MIN).state;
    s = act(s, { type: 'pause', reason: 'waiting_on_customer', until: at(T0 + H) }, T0 + 20 * MIN).state;
    s = tick(s, T0 + 2 * H).state;
    expect(s.pause ?? null).toBeNull();
    s = act(s, { type: 'pause', reason: 'waiting_on_third_party', until: at(T0 + 3 * H) }, T0 + 2.5 * H).state;
    s = tick(s, T0 + 4 * H).state;
    expect([s.pause ?? null, s.pauses?.length]).toEqual([null, 2]);
  });
});

describe('lint and transitions: what the record says', () => {
  const H = HOUR;
  const at = (ms: number) => new Date(ms).toISOString();
  test('a time of day is a time given, with or without minutes or a space before am/pm', () => {
    for (const s of ['We will write again at 10am', 'We will write again at 10:30am', 'We will write again at 10 am']) expect([s, mentionsTime(s)]).toEqual([s, true]);
  });
  test('who escalated internally is recorded; what we tried lists the latest ten notes', () => {
    let s = act(opened(), { type: 'acknowledge', nextUpdateAt: at(T0 + 2 * H) }, T0 + MIN).state;
    for (let i = 1; i <= 12; i++) s = act(s, { type: 'note', text: `note ${i}` }, T0 + (i + 1) * MIN).state;
    expect(whatWeTried(s)).toEqual(Array.from({ length: 10 }, (_, i) => `note ${i + 3}`));
    s = act(s, { type: 'internal_escalation', trigger: 'product_gap', note: 'needs a feature', by: 'ana' }, T0 + 20 * MIN).state;
    expect(s.internalEscalations.at(-1)).toMatchObject({ trigger: 'product_gap', by: 'ana' });
  });
  test('closing says why: recovery done with no renewal date; a pause in force ends with it, saying so', () => {
    let s = act(opened(), { type: 'acknowledge', nextUpdateAt: at(T0 + 2 * H) }, T0 + MIN).state;
    s = act(s, { type: 'pause', reason: 'waiting_on_customer' }, T0 + 2 * MIN).state;
    const closed = act(s, { type: 'close', reason: 'duplicate' }, T0 + 3 * MIN).state;
    expect(closed.timeline.find((e) => e.type === 'resumed')?.summary).toMatch(/paused: the case closed$/);
    s = act(s, { type: 'resume' }, T0 + 3 * MIN).state;
    s = act(s, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, T0 + 4 * MIN).state;
    s = act(s, { type: 'confirmation', resolved: true }, T0 + 5 * MIN).state;
    for (const kind of ['follow_up', 'recovery_call', 'health_check'] as const) s = act(s, { type: 'complete_task', kind, notes: 'done' }, T0 + 10 * MIN).state;
    expect([s.status, s.closeReason]).toEqual(['closed', 'Recovery done (no renewal date known)']);
  });
});
