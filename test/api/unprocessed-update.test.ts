import { DEFAULT_POLICY, RULES_VERSION, workflowIdFor } from '../../playbook';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { startSystem, type System } from '../helpers/system';

/**
 * An action the server rejects because the worker completed the workflow task that carried it without
 * answering it (Temporal's `UnprocessedUpdate`: "Workflow Update is rejected because it wasn't processed
 * by worker"). One note of the monday bench got it, on a case its worker had evicted, and the API
 * answered 500. A rejected update leaves nothing in the case, so the API tries again while its deadline
 * lasts, then answers 503 with Retry-After: never a 500, and nothing half applied.
 *
 * The worker here is this test polling the case's task queue itself and completing each workflow task
 * with nothing in it, as a worker that drops the update does.
 */
let sys: System;
const logLines: string[] = [];
beforeAll(async () => {
  sys = await startSystem({ logLines });
}, 120_000);
afterAll(() => sys?.stop());

test('an action no worker answered is tried again, then a 503 with Retry-After, not a 500; the case holds nothing of it', async () => {
  const taskQueue = uniqueId('tq-dropping');
  const caseId = uniqueId();
  const handle = await sys.client.workflow.start('escalationWorkflow', {
    taskQueue,
    workflowId: workflowIdFor(caseId),
    args: [{ caseId, input: caseInput({ title: 'Its worker drops updates' }), policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
  });
  const service = sys.client.workflowService;
  let stop = false;
  let updatesDropped = 0;
  const dropping = (async () => {
    while (!stop) {
      const task = await sys.client.connection
        .withDeadline(Date.now() + 5_000, () => service.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'dropping-worker' }))
        .catch(() => undefined);
      if (!task?.taskToken?.length) continue;
      updatesDropped += (task.messages ?? []).length;
      await service.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: task.taskToken, identity: 'dropping-worker', commands: [], messages: [] });
    }
  })();
  try {
    const began = Date.now();
    const note = await sys.call('POST', `/escalations/${caseId}/notes`, { key: 'agent', body: { text: 'anyone?', kind: 'investigation' } });
    expect([note.status, note.body.error?.code]).toEqual([503, 'temporal_unavailable']);
    expect(note.body.error.message).toMatch(/not applied/);
    expect(Number(note.headers.get('retry-after'))).toBeGreaterThan(0);
    // The log of the 503 names what Temporal's error wraps: the bench's first 500 said only "Workflow Update failed".
    const logged = logLines.map((l) => JSON.parse(l) as { msg: string; url?: string; cause?: { failureType?: string } }).find((l) => l.msg === 'request failed' && l.url?.includes(caseId));
    expect(logged?.cause?.failureType).toBe('UnprocessedUpdate');
    // Tried again before the answer, within the API's deadline.
    expect(updatesDropped).toBeGreaterThan(1);
    expect(Date.now() - began).toBeLessThan(30_000);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toEqual([]);
  } finally {
    stop = true;
    await dropping;
    await handle.terminate('test over');
  }
}, 90_000);
