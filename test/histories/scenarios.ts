import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Handle } from '../helpers/workflow-harness';
import { ACTION_UPDATES } from '../../workflows/messages';
import { caseInput } from '../helpers/fixtures';
import type { Calendar, CaseInput } from '../../playbook';

/**
 * The cases whose histories are kept under test/histories/ and replayed against today's code.
 * `npm run histories` records them again (only when a change is meant to break replay: say so in the commit).
 */
export interface Scenario {
  name: string;
  input: CaseInput;
  /** Continue-as-new once the history is this long (the first run's history is the one saved). */
  historyLimit?: number;
  /** The rules version it opens with (today's when absent). */
  rulesVersion?: number;
  /** Rules 4: the business-hours calendar it opens with. */
  calendar?: Calendar;
  /** The team it opens in (none: a case of before teams, `default`'s). */
  team?: string;
  /** The worker has Slack turned off: every post answers "skipped, Slack is off". */
  slackOff?: boolean;
  play(h: Handle, env: TestWorkflowEnvironment): Promise<void>;
}

const OFFICE: Calendar = {
  name: 'office',
  timezone: 'Europe/Berlin',
  hours: { mon: ['09:00-12:00', '13:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-15:00'] },
  holidays: ['2026-12-24', '2026-12-25'],
};

const inHours = async (env: TestWorkflowEnvironment, h: number) => new Date(Number(await env.currentTimeMs()) + h * 3_600_000).toISOString();

/** The customer confirms; CSAT, the recovery call, the health check and the QBR mention close the case. */
async function confirmedThroughRecovery(h: Handle, env: TestWorkflowEnvironment) {
      await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true, by: 'customer' }] });
      await env.sleep('2d');
      await h.executeUpdate(ACTION_UPDATES.csat, { args: [{ score: 9 }] });
      await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'recovery_call', notes: 'ok' }] });
      await env.sleep('20d');
      await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'health_check', notes: 'ok' }] });
      await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'qbr_review', notes: 'ok' }] });
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'full-case',
    input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }),
    async play(h, env) {
      await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam' }] });
      for (let i = 0; i < 10; i++) {
        await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: `finding ${i}`, nextUpdateAt: await inHours(env, 2) }] });
        await env.sleep('1h');
      }
      await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
      await confirmedThroughRecovery(h, env);
    },
  },
  {
    name: 'reopened-case',
    input: caseInput({ severity: 'medium' }),
    async play(h, env) {
      await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
      await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'k', nextUpdateAt: await inHours(env, 4) }] });
      await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
      await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: false, comment: 'still broken' }] });
      await env.sleep('30h');
      await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'k2', nextUpdateAt: await inHours(env, 4) }] });
      await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a2', fix: 'b2', prevention: 'c2' }] });
      await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true }] });
      await env.sleep('2d');
      await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
    },
  },
  {
    // Acknowledged before the 45-minute warning: the timer's moment stays, the deadline it guards changes.
    name: 'critical-acknowledged',
    input: caseInput({ severity: 'critical' }),
    async play(h, env) {
      await env.sleep('10m');
      await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
      await env.sleep('50m');
      await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'k', nextUpdateAt: await inHours(env, 1) }] });
      await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
    },
  },
  {
    name: 'breached-case',
    input: caseInput({ severity: 'critical', flags: { churnThreat: true } }),
    async play(h, env) {
      await env.sleep('2d');
      await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
    },
  },
  // Recorded by rules 2 (the case core rebuilt: clock before action, notes stored once, bounded records),
  // by rules 3 (the workflow's patches built in: no markers), by rules 4 (calendars), by rules 5 (sends
  // tried first as local activities, every patch built in) and by rules 6 (a customer's email as its
  // own activity, beside the step's try) and by rules 7 (each step's webhook events numbered and handed on,
  // in the step's try or a local activity of their own) and by rules 8 (the clock acted on only in a task
  // its timer or an action started): the same plays under each.
  ...[2, 3, 4, 5, 6, 7, 8].flatMap((rulesVersion): Scenario[] => [
    {
      name: `rules-${rulesVersion}-full-case`,
      rulesVersion,
      input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }),
      play: fullCase,
    },
    { name: `rules-${rulesVersion}-cancelled-case`, rulesVersion, input: caseInput({ severity: 'medium' }), play: cancelledCase },
    { name: `rules-${rulesVersion}-continued-case`, rulesVersion, input: caseInput({ severity: 'low' }), historyLimit: 40, play: continuedCase },
  ]),
  // Rules 4: business hours, pauses (by hand, with an end, ended by a reply) and customer replies.
  { name: 'rules-4-business-hours-case', rulesVersion: 4, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  // The Slack panel kept current in place (PATCHES.slackPanel): the same plays, recorded after it.
  { name: 'panel-full-case', rulesVersion: 4, input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }), play: fullCase },
  { name: 'panel-business-hours-case', rulesVersion: 4, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  // Slack off: after the first post says so, posts are recorded as skipped without an activity (PATCHES.slackOff).
  { name: 'slack-off-case', rulesVersion: 4, slackOff: true, input: caseInput({ severity: 'critical' }), play: unattendedCase },
  { name: 'rules-5-business-hours-case', rulesVersion: 5, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  { name: 'rules-5-slack-off-case', rulesVersion: 5, slackOff: true, input: caseInput({ severity: 'critical' }), play: unattendedCase },
  { name: 'rules-6-business-hours-case', rulesVersion: 6, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  { name: 'rules-6-slack-off-case', rulesVersion: 6, slackOff: true, input: caseInput({ severity: 'critical' }), play: unattendedCase },
  { name: 'rules-7-business-hours-case', rulesVersion: 7, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  { name: 'rules-7-slack-off-case', rulesVersion: 7, slackOff: true, input: caseInput({ severity: 'critical' }), play: unattendedCase },
  // Rules 8: the clock acted on only in a task its timer or an action started.
  { name: 'rules-8-business-hours-case', rulesVersion: 8, calendar: OFFICE, input: caseInput({ severity: 'high' }), play: pausedCase },
  { name: 'rules-8-slack-off-case', rulesVersion: 8, slackOff: true, input: caseInput({ severity: 'critical' }), play: unattendedCase },
  // Teams: opened in one, transferred to another with its Slack thread left behind, worked there to the end.
  { name: 'rules-6-transferred-case', rulesVersion: 6, team: 'amer', input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }), play: transferredCase },
  { name: 'rules-8-transferred-case', rulesVersion: 8, team: 'amer', input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }), play: transferredCase },
  { name: 'rules-7-transferred-case', rulesVersion: 7, team: 'amer', input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }), play: transferredCase },
  // The playbook's whole path in ten actions, open to closed: what the cost issue counts a case's events by.
  ...[4, 5, 6, 7, 8].map((rulesVersion): Scenario => ({ name: `rules-${rulesVersion}-ten-actions-case`, rulesVersion, input: caseInput({ severity: 'high', customer: { ...caseInput().customer, nextQbrDate: '2030-01-01T00:00:00Z' } }), play: tenActionsCase })),
];

async function transferredCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam' }] });
  await env.sleep('1h');
  await h.executeUpdate(ACTION_UPDATES.transfer, { args: [{ team: 'emea', reason: 'served from Berlin', by: 'ana' }] });
  await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'found it', nextUpdateAt: await inHours(env, 2) }] });
  await h.executeUpdate(ACTION_UPDATES.transfer, { args: [{ team: 'amer', reason: 'back home', by: 'eva' }] });
  await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
  await confirmedThroughRecovery(h, env);
}

async function unattendedCase(h: Handle, env: TestWorkflowEnvironment) {
  await env.sleep('6h'); // warnings, breaches and reminders nobody answers
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam' }] });
  await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
}

async function pausedCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam' }] });
  await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_third_party', until: await inHours(env, 30) }] });
  await env.sleep('2d'); // resumes by itself at its end
  await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'The vendor confirmed the bug', nextUpdateAt: await inHours(env, 6) }] });
  await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_customer', note: 'Asked for logs' }] });
  await env.sleep('3d');
  await h.executeUpdate(ACTION_UPDATES.reply, { args: [{ from: 'pat@customer.example', text: 'Logs attached.', messageId: '<r1@customer.example>' }] });
  await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_customer' }] });
  await env.sleep('1d');
  await h.executeUpdate(ACTION_UPDATES.resume, { args: [{ note: 'They called' }] });
  await env.sleep('5d'); // breaches and reminders in business hours
  await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
  await h.executeUpdate(ACTION_UPDATES.reply, { args: [{ from: 'pat@customer.example', text: 'Still broken for us.' }] });
  await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true, by: 'customer' }] });
  await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
}

async function fullCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam', nextUpdateAt: await inHours(env, 2) }] });
  await h.executeUpdate(ACTION_UPDATES.note, { args: [{ text: 'OOM in the sync worker', kind: 'root_cause' }] });
  await h.executeUpdate(ACTION_UPDATES.severity, { args: [{ severity: 'critical', reason: 'Payroll blocked' }] });
  await h.executeUpdate(ACTION_UPDATES.internal_escalation, { args: [{ trigger: 'engineering_required', note: 'Needs a hotfix' }] });
  for (let i = 0; i < 3; i++) {
    await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: `finding ${i}`, nextUpdateAt: await inHours(env, 2) }] });
    await env.sleep('3h'); // the last promise is missed: a breach
  }
  await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
  await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: false, comment: 'still broken' }] });
  await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'k2', nextUpdateAt: await inHours(env, 4) }] });
  await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a2', fix: 'b2', prevention: 'c2' }] });
  await confirmedThroughRecovery(h, env);
}

/** Ten actions, open to closed: a promise missed once (a breach), one resolution confirmed, the follow-through done. */
async function tenActionsCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam', nextUpdateAt: await inHours(env, 2) }] });
  await h.executeUpdate(ACTION_UPDATES.note, { args: [{ text: 'OOM in the sync worker', kind: 'root_cause' }] });
  await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'found it', nextUpdateAt: await inHours(env, 2) }] });
  await env.sleep('3h'); // the promise is missed: a breach
  await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'fix in review', nextUpdateAt: await inHours(env, 4) }] });
  await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
  await confirmedThroughRecovery(h, env);
}

async function cancelledCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(env, 4) }] });
  await env.sleep('2h');
  await h.cancel();
}

async function continuedCase(h: Handle, env: TestWorkflowEnvironment) {
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(env, 4) }] });
  for (let i = 0; i < 6; i++) {
    await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: `finding ${i}`, nextUpdateAt: await inHours(env, 30) }] });
    await env.sleep('1d');
  }
  await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'recorded for replay' }] });
}
