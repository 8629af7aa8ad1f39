import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { DeliverInput, DeliveryResult, SendActivities } from '../../activities/types';
import { DEFAULT_POLICY } from '../../playbook';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import { caseInput } from '../helpers/fixtures';
import { caseWhen, recordingActivities, runCase, timeSkippingSuite, until } from '../helpers/workflow-harness';

const t = timeSkippingSuite();
const inHours = async (h: number) => new Date(Number(await t.env.currentTimeMs()) + h * 3_600_000).toISOString();


/** A send that blocks until the test releases it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/**
 * A held send, tried inside its step (rules 5), fails there as a passing SMTP error would, and goes on as
 * the activity these tests hold. Held inside the step instead, each step would wait out the try's 5 s
 * bound first (quick-sends.test.ts covers that path) while the time-skipping server answers the tests'
 * queries with workflow tasks of its own: a race that once kept a case from progressing past this
 * test's timeout in CI.
 */
function inStepTryFailsAgain() {
  if (Context.current().info.isLocal) throw new Error('SMTP ECONNRESET: socket hang up');
}

test('a malformed update sent straight to Temporal is refused with the field and the reason; the case keeps working', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput(), activities }, async (h) => {
    const err = await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: 'next tuesday-ish' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidAction');
    expect(cause.details?.[0]).toEqual([expect.objectContaining({ field: 'nextUpdateAt' })]);
    const junk = await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 42 } as never] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(((junk as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('InvalidAction');
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(2) }] });
    expect((await h.query(getCaseQuery)).stage).toBe('investigate');
    await t.env.sleep('3h');
    const c = await h.query(getCaseQuery);
    expect(c.stage).toBe('investigate');
    expect(c.breaches.map((b) => b.kind)).toContain('respond'); // the clock still runs: critical's first update was due at 1h
  });
});

test('"Request Cancellation" in the Temporal UI closes the case cleanly: reason, closedAt, no timer, and Temporal records it cancelled', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput(), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(2) }] });
    await h.cancel();
    const failure = await h.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const c = await h.query(getCaseQuery);
    expect(c).toMatchObject({ status: 'closed', stage: 'closed', closeReason: 'Cancelled in Temporal (UI or CLI)' });
    expect(c.closedAt).not.toBeNull();
    expect(Object.values(c.deadlines).every((d) => d === null)).toBe(true);
    expect(c.timeline.at(-1)).toMatchObject({ type: 'closed', actor: 'temporal' });
    expect(c.messages.every((m) => m.status !== 'pending')).toBe(true);
  });
});

test('while continue-as-new waits for a send in flight, deadlines still fire; the case then continues in a new run', async () => {
  const blocked = gate();
  const { activities: base } = recordingActivities();
  let held = 0;
  const activities: SendActivities = {
    ...base,
    async sendEmail(i: DeliverInput): Promise<DeliveryResult> {
      if (i.message.kind === 'case_opened') {
        inStepTryFailsAgain(); // so the send in flight is the activity, not a step held to its try's bound
        held++;
        await blocked.opened;
      }
      return base.sendEmail(i);
    },
  };
  // Short windows: while an activity runs, the time-skipping server lets time pass at wall speed.
  const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '2s', warnBefore: '1s' };
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy, activities, historyLimit: 5 }, async (h) => {
    await caseWhen(h, () => held > 0, 'send in flight');
    const c = await until(() => h.query(getCaseQuery), (x) => x.breaches.some((b) => b.kind === 'acknowledge'), 'acknowledge breach while a send is in flight');
    expect(c.messages.find((m) => m.kind === 'case_opened' && m.channel === 'email')?.status).toBe('pending');
    const firstRun = (await h.describe()).runId;
    blocked.open();
    await caseWhen(h, (x) => x.messages.every((m) => m.status !== 'pending'), 'all delivered');
    await until(() => h.describe(), (d) => d.runId !== firstRun, 'a new run');
    const carried = await h.query(getCaseQuery);
    expect(carried.breaches.map((b) => b.kind)).toContain('acknowledge');
  });
});

test('a send that fails after the case closed still gets its failure notice out', async () => {
  const blocked = gate();
  const { activities: base, sent } = recordingActivities();
  const activities: SendActivities = {
    ...base,
    async sendEmail(i: DeliverInput): Promise<DeliveryResult> {
      if (i.message.kind === 'acknowledgement') {
        inStepTryFailsAgain();
        await blocked.opened;
        throw ApplicationFailure.nonRetryable('SMTP 550: mailbox unavailable', 'PermanentDeliveryFailure');
      }
      return base.sendEmail(i);
    },
  };
  await runCase(t.env, t.code, { input: caseInput(), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(2) }] });
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'duplicate' }] });
    blocked.open();
    await h.result();
    const c = await h.query(getCaseQuery);
    expect(c.messages.find((m) => m.kind === 'acknowledgement')).toMatchObject({ status: 'failed', reason: expect.stringContaining('550') });
    expect(c.messages.filter((m) => m.kind === 'delivery_failed')).toEqual([expect.objectContaining({ channel: 'slack', status: 'sent' })]);
    expect(sent.some((i) => i.message.kind === 'delivery_failed')).toBe(true);
  });
});
