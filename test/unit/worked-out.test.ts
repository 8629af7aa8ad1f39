/**
 * A committed case's deadlines and next wake-up are worked out once per state object (the views, the
 * published attributes and the loop's timer of one step share them), and never go stale: every
 * transition returns a new state, which is worked out afresh.
 */
import { DEFAULT_POLICY, act, caseView, nextWake, openCase, openDeadlinesOf, tick, visibilityOf } from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const calendar = { name: 'office', timezone: 'Europe/Berlin', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] };

test('one state: the same deadlines and wake-up each time it is read; the views agree with them', () => {
  const s = openCase({ id: 'c1', input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, now: T0, rulesVersion: 7, calendar }).state;
  expect(openDeadlinesOf(s)).toBe(openDeadlinesOf(s));
  expect(nextWake(s)).toBe(nextWake(s));
  const first = openDeadlinesOf(s)[0];
  expect(caseView(s, T0).deadlines.acknowledge).toBe(new Date(first.dueAt).toISOString());
  expect(visibilityOf(s).nextDeadline).toEqual(new Date(first.dueAt));
  // A clone is another state: worked out again, to the same values.
  const copy = structuredClone(s);
  expect(openDeadlinesOf(copy)).not.toBe(openDeadlinesOf(s));
  expect(openDeadlinesOf(copy)).toEqual(openDeadlinesOf(s));
});

test('a transition returns a new state, worked out afresh: acknowledging drops the acknowledge deadline and moves the wake-up', () => {
  const s = openCase({ id: 'c1', input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, now: T0, rulesVersion: 7, calendar }).state;
  const before = nextWake(s);
  expect(openDeadlinesOf(s).map((d) => d.kind)).toContain('acknowledge');
  const acked = act(s, { type: 'acknowledge', by: 'sam' }, T0 + 60_000).state;
  expect(openDeadlinesOf(acked).map((d) => d.kind)).not.toContain('acknowledge');
  expect(nextWake(acked)).not.toEqual(before);
  // The earlier state still answers as it was.
  expect(openDeadlinesOf(s).map((d) => d.kind)).toContain('acknowledge');
  expect(nextWake(s)).toBe(before);
  // The clock works on its own draft: a tick past the warning fires it once, and the result wakes later.
  const warned = tick(s, before!.at).state;
  expect(warned.fired.length).toBeGreaterThan(s.fired.length);
  expect(nextWake(warned)!.at).toBeGreaterThan(before!.at);
});
