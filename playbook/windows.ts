/**
 * The one seam through which every window of the playbook is laid on the clock: a deadline is
 * `after(...)` a moment, a warning or reminder `before(...)` one. A window runs on calendar time unless
 * the case has a calendar (rules 4) and its policy counts that window in business hours; warnings,
 * reminders and the default promise of an update follow the deadline they belong to.
 */
import { durationMs } from './policy';
import { businessAfter, businessBefore, businessBetween, type Calendar } from './calendar';
import type { CaseState, DeadlineKind } from './state';

/** Every window the playbook measures, by name: the deadlines' own, and the points around them. */
export type WindowKind = Exclude<DeadlineKind, 'outcome' | 'qbr_review'> | 'auto_follow_up' | 'qbr_reminder' | 'warn' | 'remind' | 'default_promise' | 'soonest_promise';

/** The soonest an acknowledgement promises the next update, on calendar time: a minute after it. */
export const SOONEST_PROMISE_MS = 60_000;

/** The windows counted in business time when a calendar is in force and the policy names none. */
export const DEFAULT_BUSINESS_WINDOWS: readonly DeadlineKind[] = ['acknowledge', 'respond', 'next_update', 'resolve'];

const ms = (d: string | number) => (typeof d === 'number' ? d : durationMs(d));

/**
 * The calendar a window of `kind` runs on, or null for calendar time. `of` names the deadline a warning
 * or reminder belongs to.
 */
export function calendarFor(state: CaseState, kind: WindowKind, of?: DeadlineKind): Calendar | null {
  const cal = state.calendar;
  if (!cal) return null;
  // The deadline the window belongs to. The points that belong to none (auto_follow_up, qbr_reminder,
  // soonest_promise) are no deadline's name, so no list of business windows holds them.
  const deadline: string | undefined = kind === 'warn' || kind === 'remind' ? of : kind === 'default_promise' ? 'next_update' : kind;
  return (state.policy.businessHours ?? DEFAULT_BUSINESS_WINDOWS).some((k) => k === deadline) ? cal : null;
}

/** The moment `duration` of window `kind` after `from` (epoch ms). */
export function after(state: CaseState, kind: WindowKind, from: number, duration: string | number, of?: DeadlineKind): number {
  const cal = calendarFor(state, kind, of);
  return cal ? businessAfter(cal, from, ms(duration)) : from + ms(duration);
}

/** The moment `duration` of window `kind` before `to` (epoch ms). */
export function before(state: CaseState, kind: WindowKind, to: number, duration: string | number, of?: DeadlineKind): number {
  const cal = calendarFor(state, kind, of);
  return cal ? businessBefore(cal, to, ms(duration)) : to - ms(duration);
}

/** How much of window `kind` runs between two moments (ms): business time or calendar time. */
export function between(state: CaseState, kind: WindowKind, from: number, to: number, of?: DeadlineKind): number {
  const cal = calendarFor(state, kind, of);
  return cal ? businessBetween(cal, from, to) : Math.max(0, to - from);
}
