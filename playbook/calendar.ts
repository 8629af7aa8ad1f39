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

function dayOf(cal: Calendar, at: number): DateTime {
  return DateTime.fromMillis(at, { zone: cal.timezone }).startOf('day');
}

/** The moment `ms` of business time after `from`. */
export function businessAfter(cal: Calendar, from: number, ms: number): number {
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
}

/** The moment `ms` of business time before `to` (never before the calendar's horizon). */
export function businessBefore(cal: Calendar, to: number, ms: number): number {
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
}

/** Business time (ms) between `from` and `to`. */
export function businessBetween(cal: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  let day = dayOf(cal, from);
  for (let i = 0; i < HORIZON_DAYS && day.toMillis() < to; i++, day = day.plus({ days: 1 })) {
    for (const [s, e] of openOn(cal, day)) total += Math.max(0, Math.min(e, to) - Math.max(s, from));
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
