/**
 * The one seam through which every window of the playbook is laid on the clock: a deadline is
 * `after(...)` a moment, a warning or reminder `before(...)` one. Today windows run on calendar time;
 * business hours (calendars) plug in here and nowhere else.
 */
import { durationMs } from './policy';
import type { CaseState, DeadlineKind } from './state';

/** Every window the playbook measures, by name: the deadlines' own, and the points around them. */
export type WindowKind = Exclude<DeadlineKind, 'outcome' | 'qbr_review'> | 'auto_follow_up' | 'qbr_reminder' | 'warn' | 'remind' | 'default_promise';

const ms = (d: string | number) => (typeof d === 'number' ? d : durationMs(d));

/** The moment `duration` of window `kind` after `from` (epoch ms). */
export function after(_state: CaseState, _kind: WindowKind, from: number, duration: string | number): number {
  return from + ms(duration);
}

/** The moment `duration` of window `kind` before `to` (epoch ms). */
export function before(_state: CaseState, _kind: WindowKind, to: number, duration: string | number): number {
  return to - ms(duration);
}
