/**
 * The calendar's days are worked out once each (playbook/calendar.ts, CalendarDays). Every answer must be
 * the one the day-by-day luxon arithmetic gave before that cache: that arithmetic is kept here, verbatim
 * in its steps, as the reference, and compared over generated calendars (zones with daylight-saving
 * changes, holidays, 24:00 ends, ranges that overlap) and moments years apart, asked in any order.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { WEEKDAYS, businessAfter, businessBefore, businessBetween, parseRange, type Calendar } from '../../playbook/calendar';

const HORIZON_DAYS = 3_700;

function openOn(cal: Calendar, day: DateTime): [number, number][] {
  if (cal.holidays.includes(day.toISODate()!)) return [];
  const out: [number, number][] = [];
  for (const r of cal.hours[WEEKDAYS[day.weekday - 1]] ?? []) {
    const parsed = parseRange(r)!;
    const at = (minutes: number) =>
      minutes === 24 * 60 ? day.plus({ days: 1 }).startOf('day').toMillis() : day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 }).toMillis();
    const [s, e] = [at(parsed[0]), at(parsed[1])];
    if (e > s) out.push([s, e]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}
const dayOf = (cal: Calendar, at: number) => DateTime.fromMillis(at, { zone: cal.timezone }).startOf('day');

const reference = {
  after(cal: Calendar, from: number, ms: number): number {
    let left = ms;
    let day = dayOf(cal, from);
    for (let i = 0; i < HORIZON_DAYS; i++, day = day.plus({ days: 1 })) {
      for (const [s, e] of openOn(cal, day)) {
        const start = Math.max(s, from);
        if (start >= e) continue;
        if (left <= 0) return start;
        if (e - start >= left) return start + left;
        left -= e - start;
      }
    }
    throw new RangeError(`calendar "${cal.name}" has no business hours within ${HORIZON_DAYS} days of ${new Date(from).toISOString()}`);
  },
  before(cal: Calendar, to: number, ms: number): number {
    let left = ms;
    let day = dayOf(cal, to);
    for (let i = 0; i < HORIZON_DAYS; i++, day = day.minus({ days: 1 })) {
      for (const [s, e] of openOn(cal, day).reverse()) {
        const end = Math.min(e, to);
        if (end <= s) continue;
        if (end - s >= left) return end - left;
        left -= end - s;
      }
    }
    return to - ms;
  },
  between(cal: Calendar, from: number, to: number): number {
    if (to <= from) return 0;
    let total = 0;
    let day = dayOf(cal, from);
    for (let i = 0; i < HORIZON_DAYS && day.toMillis() < to; i++, day = day.plus({ days: 1 })) {
      for (const [s, e] of openOn(cal, day)) total += Math.max(0, Math.min(e, to) - Math.max(s, from));
    }
    return total;
  },
};

// Zones whose clocks change at 02:00 or 03:00 (the case the product's calendars meet), none, or at a half hour.
const ZONES = ['America/New_York', 'Europe/Berlin', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata', 'UTC', 'Australia/Lord_Howe', 'Asia/Tokyo'];
const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');
const SPAN = 4 * 365 * 24 * HOUR;

const range = fc
  .tuple(fc.integer({ min: 0, max: 47 }), fc.integer({ min: 1, max: 48 }))
  .map(([a, len]) => {
    const end = Math.min(48, a + len);
    const hm = (half: number) => (half === 48 ? '24:00' : `${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 ? '30' : '00'}`);
    return `${hm(a)}-${hm(end)}`;
  })
  .filter((r) => parseRange(r) !== null);

const calendar: fc.Arbitrary<Calendar> = fc
  .record({
    timezone: fc.constantFrom(...ZONES),
    hours: fc.dictionary(fc.constantFrom(...WEEKDAYS), fc.array(range, { minLength: 1, maxLength: 3 }), { minKeys: 1 }),
    holidays: fc.array(fc.integer({ min: 0, max: 4 * 365 }).map((d) => DateTime.fromMillis(START + d * 24 * HOUR, { zone: 'UTC' }).toISODate()!), { maxLength: 8 }),
  })
  .map((c) => ({ name: 'generated', ...c }));

const moment = fc.integer({ min: 0, max: SPAN }).map((x) => START + x);
const duration = fc.oneof(fc.integer({ min: 0, max: 4 * HOUR }), fc.integer({ min: 0, max: 5 * 24 * HOUR }));
/** What a call answers, or the error it throws: both must agree. */
const outcome = (f: () => number) => {
  try {
    return f();
  } catch (e) {
    return String(e);
  }
};

describe('business time worked out once per calendar day', () => {
  test('after, before and between answer what the day-by-day arithmetic answered, in any order and across years', () => {
    fc.assert(
      fc.property(
        calendar,
        fc.array(fc.tuple(fc.constantFrom('after', 'before', 'between'), moment, duration), { minLength: 1, maxLength: 12 }),
        (cal, asks) => {
          for (const [op, at, ms] of asks) {
            if (op === 'after') expect(outcome(() => businessAfter(cal, at, ms))).toBe(outcome(() => reference.after(cal, at, ms)));
            if (op === 'before') expect(businessBefore(cal, at, ms)).toBe(reference.before(cal, at, ms));
            if (op === 'between') expect(businessBetween(cal, at, at + ms)).toBe(reference.between(cal, at, at + ms));
          }
        },
      ),
      { numRuns: 100, seed: 29 },
    );
  });

  test('a copy of a calendar (each case carries its own) answers the same, and so does one asked at the edges of its days', () => {
    const cal: Calendar = { name: 'us', timezone: 'America/New_York', hours: { mon: ['09:00-17:00'], fri: ['00:00-24:00'] }, holidays: ['2026-03-09'] };
    const copy = JSON.parse(JSON.stringify(cal)) as Calendar;
    // Midnight, a second before it, and the spring-forward night (8 March 2026) in New York.
    for (const at of ['2026-03-06T05:00:00Z', '2026-03-06T04:59:59Z', '2026-03-08T07:00:00Z', '2026-03-13T04:00:00Z', '2026-03-14T04:00:00Z'].map(Date.parse)) {
      for (const ms of [0, 1, HOUR, 30 * HOUR]) {
        expect(businessAfter(copy, at, ms)).toBe(reference.after(cal, at, ms));
        expect(businessBefore(copy, at, ms)).toBe(reference.before(cal, at, ms));
        expect(businessBetween(cal, at - ms, at)).toBe(reference.between(copy, at - ms, at));
      }
    }
  });

  test('a moment millennia ahead (a promise the API accepts, year 7620) works out a few days, not every day in between', () => {
    // Were the days worked out one after another from the first asked for, this would be millions of
    // luxon days and the test would not end within jest's 5 s.
    const cal: Calendar = { name: 'far', timezone: 'Asia/Tokyo', hours: { mon: ['09:00-17:00'], thu: ['10:00-12:00'] }, holidays: [] };
    const now = Date.parse('2026-12-04T10:00:00Z');
    const far = Date.parse('7620-07-16T04:59:02Z');
    expect(businessAfter(cal, far, HOUR)).toBe(reference.after(cal, far, HOUR));
    expect(businessBefore(cal, far, 3 * HOUR)).toBe(reference.before(cal, far, 3 * HOUR));
    expect(businessBetween(cal, far - 20 * 24 * HOUR, far)).toBe(reference.between(cal, far - 20 * 24 * HOUR, far));
    expect(businessAfter(cal, now, HOUR)).toBe(reference.after(cal, now, HOUR));
  });

  test('a calendar with no business hours within the horizon is still refused', () => {
    const cal: Calendar = { name: 'closed', timezone: 'UTC', hours: { mon: ['09:00-17:00'] }, holidays: [] };
    const mondays = Array.from({ length: 600 }, (_, i) => DateTime.fromISO('2026-12-07', { zone: 'UTC' }).plus({ weeks: i }).toISODate()!);
    expect(() => businessAfter({ ...cal, holidays: mondays }, Date.parse('2026-12-05T00:00:00Z'), HOUR)).toThrow(RangeError);
  });
});
