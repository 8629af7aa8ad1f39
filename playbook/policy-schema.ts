import { z } from 'zod';
import { DEFAULT_POLICY, parseDuration, type Policy } from './policy';
import { SEVERITIES, type Severity } from './severity';
import { DEADLINE_KINDS } from './state';

/** A positive duration string; the error says what is expected. */
export const durationString = z
  .string()
  .refine((s) => (parseDuration(s) ?? 0) > 0, { message: 'expected a positive duration such as "90s", "4h" or "7d"' });

const bySeverity = (defaults: Record<Severity, string>) =>
  z
    .object(Object.fromEntries(SEVERITIES.map((s) => [s, durationString.default(defaults[s])])) as Record<Severity, z.ZodDefault<typeof durationString>>)
    .strict()
    .prefault({});

/** The policy section of the escalation config: every field optional, defaults from the playbook. */
export const policySchema = z
  .object({
    acknowledgeWithin: durationString.default(DEFAULT_POLICY.acknowledgeWithin),
    respondWithin: bySeverity(DEFAULT_POLICY.respondWithin),
    updateEvery: bySeverity(DEFAULT_POLICY.updateEvery),
    escalateUnresolvedAfter: durationString.default(DEFAULT_POLICY.escalateUnresolvedAfter),
    followUpAfter: durationString.default(DEFAULT_POLICY.followUpAfter),
    followUpWithin: durationString.default(DEFAULT_POLICY.followUpWithin),
    recoveryCallWithin: durationString.default(DEFAULT_POLICY.recoveryCallWithin),
    healthCheckWithin: durationString.default(DEFAULT_POLICY.healthCheckWithin),
    qbrReminderBefore: durationString.default(DEFAULT_POLICY.qbrReminderBefore),
    warnBefore: z
      .union([z.number().gt(0).lt(1), durationString], { message: 'expected a fraction between 0 and 1 or a duration such as "15m"' })
      .default(DEFAULT_POLICY.warnBefore),
    remindEvery: durationString.default(DEFAULT_POLICY.remindEvery),
    maxReminders: z.number().int().min(0).max(20).default(DEFAULT_POLICY.maxReminders),
    calendar: z.string().min(1).optional(),
    businessHours: z.array(z.enum(DEADLINE_KINDS.filter((k) => k !== 'outcome' && k !== 'qbr_review') as ['acknowledge'])).optional(),
  })
  .strict()
  .refine((p) => parseDuration(p.followUpAfter)! <= parseDuration(p.followUpWithin)!, {
    message: 'followUpAfter must not be later than followUpWithin',
    path: ['followUpAfter'],
  })
  .prefault({}) satisfies z.ZodType<Policy, unknown>;
