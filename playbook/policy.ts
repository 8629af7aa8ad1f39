import ms, { type StringValue } from 'ms';
import { SEVERITIES, SEVERITY_TABLE, type Severity } from './severity';
import type { DeadlineKind } from './state';

/** Every window of the playbook, as duration strings ("90s", "4h", "7d"). A case keeps the policy it opened with. */
export interface Policy {
  acknowledgeWithin: string;
  respondWithin: Record<Severity, string>;
  updateEvery: Record<Severity, string>;
  escalateUnresolvedAfter: string;
  followUpAfter: string;
  followUpWithin: string;
  recoveryCallWithin: string;
  healthCheckWithin: string;
  qbrReminderBefore: string;
  /** A fraction of the window (0.25 = the last quarter) or a duration before each deadline. */
  warnBefore: number | string;
  /** After a breach the owner is reminded this often, at most `maxReminders` times. */
  remindEvery: string;
  maxReminders: number;
  /** The calendar a new case uses unless its open names one (rules 4); unset: calendar time. */
  calendar?: string;
  /** The windows counted in business time when a calendar is in force (default: DEFAULT_BUSINESS_WINDOWS). */
  businessHours?: DeadlineKind[];
}

const bySeverity = (): Record<Severity, string> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, SEVERITY_TABLE[s].responseTime])) as Record<Severity, string>;

export const DEFAULT_POLICY: Readonly<Policy> = {
  acknowledgeWithin: '1h',
  respondWithin: bySeverity(),
  updateEvery: bySeverity(),
  escalateUnresolvedAfter: '24h',
  followUpAfter: '24h',
  followUpWithin: '48h',
  recoveryCallWithin: '7d',
  healthCheckWithin: '30d',
  qbrReminderBefore: '7d',
  warnBefore: 0.25,
  remindEvery: '4h',
  maxReminders: 3,
};

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const value = ms(text.trim() as StringValue);
  return Number.isFinite(value) ? value : undefined;
}

export function durationMs(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new TypeError(`not a duration: ${JSON.stringify(text)}`);
  return value;
}

/** How long before a deadline the owner is warned, for a window of `windowMs`. */
export function warnOffsetMs(policy: Policy, windowMs: number): number {
  const w = policy.warnBefore;
  return typeof w === 'number' ? Math.round(windowMs * w) : Math.min(durationMs(w), windowMs);
}
