/**
 * Business time: a named calendar (IANA time zone, weekly opening hours, holidays) and the arithmetic
 * of windows counted in it. Pure and deterministic (no clock of its own), so the workflow computes the
 * same deadlines on every replay. Time zones come from luxon over the runtime's ICU data: a local
 * "09:00" on a daylight-saving day is 09:00 on the wall clock, whatever the UTC offset that day.
 */
import { DateTime } from 'luxon';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Calendar {
  name: string;
  /** IANA time zone, e.g. Europe/Berlin. */
  timezone: string;
  /** Opening hours per weekday as "HH:MM-HH:MM" ranges (end "24:00" allowed); a day absent is closed. */
  hours: Partial<Record<Weekday, string[]>>;
  /** Closed days, as local dates "YYYY-MM-DD". */
  holidays: string[];
}

/** How far a window may reach for an opening (days): a calendar is refused at start if it has none in a week. */
const HORIZON_DAYS = 3_700;

const RANGE = /^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

/** Minutes after local midnight of each end of a "HH:MM-HH:MM" range, or null when it is not one. */
export function parseRange(range: string): [number, number] | null {
  const m = RANGE.exec(range);
  if (!m) return null;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = m[3] === '24:00' ? 24 * 60 : Number(m[4]) * 60 + Number(m[5]);
  return start < end ? [start, end] : null;
}

/** The open intervals [start, end) in epoch ms of one local day, given as a luxon day start in the zone. */
function openOn(cal: Calendar, day: DateTime): [number, number][] {
  if (cal.holidays.includes(day.toISODate()!)) return [];
  const ranges = cal.hours[WEEKDAYS[day.weekday - 1]] ?? [];
  const out: [number, number][] = [];
  for (const r of ranges) {
    const parsed = parseRange(r);
    if (!parsed) continue;
    // Local wall-clock times of the day: luxon moves a time inside a spring-forward gap to after it.
    const at = (minutes: number) =>
      minutes === 24 * 60 ? day.plus({ days: 1 }).startOf('day').toMillis() : day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 }).toMillis();
    const [s, e] = [at(parsed[0]), at(parsed[1])];
    if (e > s) out.push([s, e]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const DAY_MS = 86_400_000;
/** Days one calendar keeps worked out (two horizons' worth); past that it starts again. */
const DAYS_KEPT = 2 * 3_700 + 64;

/**
 * A calendar's local days, each worked out once: the day's start (epoch ms) and its open intervals, by
 * its local date as a day number (days since 1970-01-01 of that date, whatever the zone). Any day is
 * worked out on its own (luxon's start of that local date), so a moment years ahead costs a few days,
 * not every day in between. The arithmetic walks the same open intervals it walked day by day before
 * (test/unit/calendar-days.test.ts keeps that walk and compares). One known difference: in a zone whose
 * clocks change at midnight, the old walk carried the first day's 01:00 start to every later day; each
 * day now starts at its own local start. A burst of cases on one calendar (bench part monday) asks for
 * the same few days thousands of times.
 */
class CalendarDays {
  private readonly days = new Map<number, { start: number; open: [number, number][] }>();

  constructor(private readonly cal: Calendar) {}

  /** Local date number `n`: its start and open intervals (read only), worked out on first use. */
  get(n: number): { start: number; open: readonly [number, number][] } {
    let d = this.days.get(n);
    if (!d) {
      const date = new Date(n * DAY_MS);
      const day = DateTime.fromObject({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() }, { zone: this.cal.timezone }).startOf('day');
      d = { start: day.toMillis(), open: openOn(this.cal, day) };
      if (this.days.size >= DAYS_KEPT) this.days.clear();
      this.days.set(n, d);
    }
    return d;
  }

  /** The number of the local date that holds `at`. */
  numberOf(at: number): number {
    // A zone's offset is under a day, so the UTC date is within a day of the local one; the starts settle it.
    let n = Math.floor(at / DAY_MS);
    while (this.get(n).start > at) n--;
    while (this.get(n + 1).start <= at) n++;
    return n;
  }
}

/** The days of each calendar by its content (a case's calendar is a copy of a configured one): few calendars, bounded. */
const BY_CONTENT = new Map<string, CalendarDays>();
const BY_OBJECT = new WeakMap<Calendar, CalendarDays>();
const CALENDARS_KEPT = 64;

function calendarDays(cal: Calendar): CalendarDays {
  let days = BY_OBJECT.get(cal);
  if (days) return days;
  const key = JSON.stringify([cal.timezone, cal.hours, cal.holidays]);
  days = BY_CONTENT.get(key);
  if (!days) {
    if (BY_CONTENT.size >= CALENDARS_KEPT) BY_CONTENT.clear();
    BY_CONTENT.set(key, (days = new CalendarDays(cal)));
  }
  BY_OBJECT.set(cal, days);
  return days;
}

/** The moment `ms` of business time after `from`. */
export function businessAfter(cal: Calendar, from: number, ms: number): number {
  let left = ms;
  const days = calendarDays(cal);
  const first = days.numberOf(from);
  for (let n = first; n < first + HORIZON_DAYS; n++) {
    for (const [s, e] of days.get(n).open) {
      const start = Math.max(s, from);
      if (start >= e) continue;
      if (left <= 0) return start;
      if (e - start >= left) return start + left;
      left -= e - start;
    }
  }
  throw new RangeError(`calendar "${cal.name}" has no business hours within ${HORIZON_DAYS} days of ${new Date(from).toISOString()}`);
}

/** The moment `ms` of business time before `to` (never before the calendar's horizon). */
export function businessBefore(cal: Calendar, to: number, ms: number): number {
  let left = ms;
  const days = calendarDays(cal);
  const first = days.numberOf(to);
  for (let n = first; n > first - HORIZON_DAYS; n--) {
    const open = days.get(n).open;
    for (let i = open.length - 1; i >= 0; i--) {
      const [s, e] = open[i];
      const end = Math.min(e, to);
      if (end <= s) continue;
      if (end - s >= left) return end - left;
      left -= end - s;
    }
  }
  return to - ms;
}

/** Business time (ms) between `from` and `to`. */
export function businessBetween(cal: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  const days = calendarDays(cal);
  const first = days.numberOf(from);
  for (let n = first; n < first + HORIZON_DAYS && days.get(n).start < to; n++) {
    for (const [s, e] of days.get(n).open) total += Math.max(0, Math.min(e, to) - Math.max(s, from));
  }
  return total;
}

/** Why a calendar cannot be used, or null: unknown zone, bad ranges or dates, no opening in a week. */
export function calendarProblem(cal: Omit<Calendar, 'name'>): string | null {
  if (!DateTime.local().setZone(cal.timezone).isValid) return `unknown time zone "${cal.timezone}"`;
  for (const [day, ranges] of Object.entries(cal.hours)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) return `"${day}" is not a day (use ${WEEKDAYS.join(', ')})`;
    for (const r of ranges ?? []) if (!parseRange(r)) return `hours.${day}: "${r}" is not a range such as "09:00-17:00"`;
  }
  for (const h of cal.holidays) if (!DateTime.fromISO(h, { zone: cal.timezone }).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(h)) return `holiday "${h}" is not a date YYYY-MM-DD`;
  if (!Object.values(cal.hours).some((r) => (r ?? []).length > 0)) return 'no business hours on any day';
  return null;
}
