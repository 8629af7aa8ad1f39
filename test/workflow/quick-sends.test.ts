import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { DeliverInput, DeliveryResult, QueuedEvent, SendActivities } from '../../activities/types';
import { noWebhookActivities } from '../../activities/webhooks';
import { PERMANENT_FAILURE } from '../../activities/types';
import { DEFAULT_POLICY } from '../../playbook';
import { QUICK_SEND_BOUND } from '../../workflows/escalation';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import { caseInput } from '../helpers/fixtures';
import { Worker } from '@temporalio/worker';
import { recordingActivities, runCase, timeSkippingSuite, until } from '../helpers/workflow-harness';

const t = timeSkippingSuite();

type Events = temporal.api.history.v1.IHistoryEvent[];
const count = (events: Events, key: keyof temporal.api.history.v1.IHistoryEvent) => events.filter((e) => e[key]).length;

/** Which activity functions ran as local activities, and which as activities, per message. */
function tracked(base: SendActivities, fail: (i: DeliverInput, local: boolean) => Error | undefined = () => undefined) {
  const runs: { id: string; channel: string; local: boolean; lookFirst: boolean }[] = [];
  const wrap =
    (send: (i: DeliverInput) => Promise<DeliveryResult>) =>
    async (i: DeliverInput): Promise<DeliveryResult> => {
      const local = Context.current().info.isLocal;
      runs.push({ id: i.message.id, channel: i.message.channel, local, lookFirst: i.lookFirst === true });
      const err = fail(i, local);
      if (err) throw err;
      return send(i);
    };
  return { runs, activities: { ...base, sendEmail: wrap(base.sendEmail), postSlack: wrap(base.postSlack) } satisfies SendActivities };
}

test('rules 5: a step\'s sends are tried once, together, as one local activity inside the step; no activity task, one workflow task and one marker per step', async () => {
  const { activities: base } = recordingActivities();
  const { runs, activities } = tracked(base);
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities, rulesVersion: 5 }, async (h) => {
    // Read from the history, not by query: the time-skipping server answers a query with a workflow task of its own.
    const history = async () => (await h.fetchHistory()).events ?? [];
    await until(history, (e) => count(e, 'workflowTaskCompletedEventAttributes') === 1, 'the opening step');
    // An action's answer comes with its step's workflow task: the local sends have finished by then.
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString(), by: 'sam' }] });
    const events = await history();
    const c = await h.query(getCaseQuery);
    expect(c.messages.length).toBeGreaterThanOrEqual(3);
    expect(c.messages.every((m) => m.status === 'sent')).toBe(true);
    expect(runs.length).toBe(c.messages.length);
    expect(runs.every((r) => r.local && r.lookFirst)).toBe(true);
    expect(count(events, 'activityTaskScheduledEventAttributes')).toBe(0);
    // The opening and the acknowledgement: two steps, two workflow tasks, one local activity (one marker)
    // each, with every message of the step (and the acknowledgement's panel refresh) in it.
    expect(count(events, 'workflowTaskCompletedEventAttributes')).toBe(2);
    expect(count(events, 'markerRecordedEventAttributes')).toBe(2);
    expect(events.filter((e) => e.markerRecordedEventAttributes).every((e) => e.markerRecordedEventAttributes!.markerName === 'core_local_activity')).toBe(true);
    // No patch bookkeeping: rules 5 runs every patch without a marker.
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(false);
  });
});

test("rules 6: a customer's email goes as its own activity, beside the step's local try; the other messages stay in the try", async () => {
  const { activities: base } = recordingActivities();
  const { runs, activities } = tracked(base);
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities, rulesVersion: 6 }, async (h) => {
    await until(async () => (await h.fetchHistory()).events ?? [], (e) => count(e, 'workflowTaskCompletedEventAttributes') === 1, 'the opening step');
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString(), by: 'sam' }] });
    const c = await until(() => h.query(getCaseQuery), (x) => x.messages.every((m) => m.status === 'sent'), 'every message sent');
    const ack = c.messages.find((m) => m.kind === 'acknowledgement')!;
    expect(runs.filter((r) => r.id === ack.id)).toEqual([{ id: ack.id, channel: 'email', local: false, lookFirst: false }]);
    expect(runs.filter((r) => r.id !== ack.id).every((r) => r.local)).toBe(true);
    const events = (await h.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name)).toEqual(['sendEmail']);
    // The opening's try, and the acknowledgement's (its panel refresh): one marker each.
    expect(count(events, 'markerRecordedEventAttributes')).toBe(2);
    await Worker.runReplayHistory({ workflowBundle: t.code }, await h.fetchHistory());
  });
});

test('rules 5: a local try that fails for a reason a retry can fix goes on as the activity, which delivers it', async () => {
  const { activities: base } = recordingActivities();
  const { runs, activities } = tracked(base, (i, local) => (local && i.message.channel === 'email' ? new Error('SMTP ECONNRESET: socket hang up') : undefined));
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities, rulesVersion: 5 }, async (h) => {
    const c = await until(() => h.query(getCaseQuery), (x) => x.messages.length > 0 && x.messages.every((m) => m.status === 'sent'), 'the opening sent');
    const email = c.messages.find((m) => m.channel === 'email')!;
    expect(runs.filter((r) => r.id === email.id).map((r) => r.local)).toEqual([true, false]);
    const events = (await h.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name)).toEqual(['sendEmail']);
    // The step's try, its failure and the activity after it replay as they ran.
    await Worker.runReplayHistory({ workflowBundle: t.code }, await h.fetchHistory());
  });
});

test('rules 5: a local try refused for good (SMTP 550) is recorded failed with its reason; no activity repeats it', async () => {
  const { activities: base } = recordingActivities();
  const { runs, activities } = tracked(base, (i) => (i.message.channel === 'email' ? ApplicationFailure.nonRetryable('SMTP 550: no such user', PERMANENT_FAILURE) : undefined));
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities, rulesVersion: 5 }, async (h) => {
    const c = await until(() => h.query(getCaseQuery), (x) => x.messages.some((m) => m.channel === 'email' && m.status === 'failed'), 'the email recorded failed');
    const email = c.messages.find((m) => m.channel === 'email' && m.status === 'failed')!;
    expect(email.reason).toMatch(/SMTP 550: no such user/);
    expect(runs.filter((r) => r.id === email.id)).toHaveLength(1);
    const events = (await h.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendEmail')).toHaveLength(0);
    await Worker.runReplayHistory({ workflowBundle: t.code }, await h.fetchHistory());
  });
});

test('rules 5: a local try that outlasts its bound (a hung mail server) gives its messages to the activities; the history replays', async () => {
  const { activities: base } = recordingActivities();
  const { runs, activities } = tracked(base);
  const slow = {
    ...activities,
    async sendEmail(i: DeliverInput): Promise<DeliveryResult> {
      // Locally, the mail server takes longer than the try's bound.
      if (Context.current().info.isLocal) await new Promise((r) => setTimeout(r, msToNumber(QUICK_SEND_BOUND) + 2_000));
      return activities.sendEmail(i);
    },
  };
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities: slow, rulesVersion: 5 }, async (h) => {
    const c = await until(() => h.query(getCaseQuery), (x) => x.messages.length > 0 && x.messages.every((m) => m.status === 'sent'), 'the opening sent');
    const email = c.messages.find((m) => m.channel === 'email')!;
    // Sent by the activity: the hung local try may finish too (the same Message-ID: the documented window).
    expect(runs.filter((r) => r.id === email.id && !r.local)).toHaveLength(1);
    const history = await h.fetchHistory();
    expect((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name)).toContain('sendEmail');
    await Worker.runReplayHistory({ workflowBundle: t.code }, history);
  });
}, 60_000);

test('rules 7: a step\'s webhook events ride in its local try, in order: still one marker per step, the events numbered from 1', async () => {
  const { activities: base } = recordingActivities();
  const handed: { caseId: string; sequences: number[]; local: boolean }[] = [];
  const webhooks = {
    ...noWebhookActivities(),
    queueWebhooks: async ({ caseId, events }: { caseId: string; events: QueuedEvent[] }) => {
      handed.push({ caseId, sequences: events.map((e) => e.sequence), local: Context.current().info.isLocal });
      return 1;
    },
  };
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, activities: base, webhooks, rulesVersion: 7 }, async (h) => {
    await until(async () => (await h.fetchHistory()).events ?? [], (e) => count(e, 'workflowTaskCompletedEventAttributes') === 1, 'the opening step');
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString(), by: 'sam' }] });
    await until(async () => handed.length, (n) => n >= 2, 'both steps\' events handed on');
    const events = (await h.fetchHistory()).events ?? [];
    // The opening (case.opened) and the acknowledgement (case.stage_changed), each handed on inside its step's try.
    expect(handed.map((x) => x.sequences)).toEqual([[1], [2]]);
    expect(handed.every((x) => x.local && x.caseId === h.workflowId.replace(/^escalation-/, ''))).toBe(true);
    const markers = events.filter((e) => e.markerRecordedEventAttributes);
    // The opening's try; the acknowledgement's (its customer email goes as an activity): its events and its panel refresh.
    expect(markers.map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0].data!).toString()).activity_type)).toEqual(['tryStep', 'tryStep']);
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(false);
    await Worker.runReplayHistory({ workflowBundle: t.code }, await h.fetchHistory());
  });
});
