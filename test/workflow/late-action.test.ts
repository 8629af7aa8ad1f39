import { Worker } from '@temporalio/worker';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../../playbook';
import { escalationWorkflow } from '../../workflows';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { caseWhen, recordingActivities, timeSkippingSuite } from '../helpers/workflow-harness';

// Its own time-skipping server: an update queued while no worker polls leaves that server unable to
// skip time for later tests, so this test shares it with none.
const t = timeSkippingSuite();
const inHours = async (h: number) => new Date(Number(await t.env.currentTimeMs()) + h * 3_600_000).toISOString();

test('an acknowledgement that arrives after its window while the worker was away is recorded as a breach', async () => {
  const { activities } = recordingActivities();
  const taskQueue = uniqueId('tq');
  const caseId = uniqueId();
  // No workflow cache, so no sticky queue: the case's next task goes to whichever worker polls next.
  const worker = () => Worker.create({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.code, activities, maxCachedWorkflows: 0 });
  const handle = await t.env.client.workflow.start(escalationWorkflow, {
    taskQueue,
    workflowId: workflowIdFor(caseId),
    args: [{ caseId, input: caseInput({ severity: 'high' }), policy: { ...DEFAULT_POLICY, acknowledgeWithin: '3s', warnBefore: '1s' }, rulesVersion: RULES_VERSION }],
    staticSummary: caseSummary(caseInput()),
  });
  try {
    // The worker runs the case up to its first timer (the warning at 2 s), then goes away.
    await (await worker()).runUntil(() => caseWhen(handle, (c) => c.messages.every((m) => m.status !== 'pending'), 'opened'));
    await t.env.sleep('4200ms'); // the warning timer fires with no worker; the due time passes unseen
    // The acknowledgement reaches the case in the same activation as the overdue timer.
    const ack = handle.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: await inHours(2) }] });
    await (await worker()).runUntil(async () => {
      await ack;
      const c = await handle.query(getCaseQuery);
      expect(c.stage).toBe('investigate');
      expect(c.breaches.map((b) => b.kind)).toEqual(['acknowledge']);
    });
  } finally {
    await handle.terminate('test finished').catch(() => undefined);
  }
});
