import { Worker } from '@temporalio/worker';
import { DEFAULT_POLICY, RULES_VERSION, workflowIdFor } from '../../playbook';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { recordingActivities } from '../helpers/workflow-harness';
import { eventually, startSystem, type System } from '../helpers/system';

/**
 * A case whose workflow the worker cannot run: its history does not replay against the worker's code
 * (nondeterminism: the two stuck cases of the monday bench, or a deploy that broke replay). A read of
 * it answered 500 "Something went wrong on our side" (5 reads of the stuck case in one bench run).
 * It is a 503 that says what is wrong with the case, or, when this API read the case before, that
 * earlier read marked stale with the reason.
 */
let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 120_000);
afterAll(() => sys?.stop());

const DRIFTED = require.resolve('../helpers/drifted-workflows');
const start = (taskQueue: string, caseId: string) =>
  sys.client.workflow.start('escalationWorkflow', { taskQueue, workflowId: workflowIdFor(caseId), args: [{ caseId, input: caseInput({ title: 'Cannot run here' }), policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }] });

test('a case whose history the worker cannot replay reads 503 case_unavailable, saying why, not 500; so does one whose workflow task has failed', async () => {
  const taskQueue = uniqueId('tq');
  const caseId = uniqueId();
  // Run by other code (a timer first), then offered to today's worker, which cannot replay it.
  const drifted = await Worker.create({ connection: sys.env.nativeConnection, taskQueue, workflowsPath: DRIFTED });
  await drifted.runUntil(async () => {
    const h = await start(taskQueue, caseId);
    await eventually(async () => (await h.fetchHistory()).events ?? [], (events) => events.some((e) => e.timerStartedEventAttributes), 'the other code ran');
  });
  const today = await Worker.create({ connection: sys.env.nativeConnection, taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities });
  await today.runUntil(async () => {
    const read = await sys.call('GET', `/escalations/${caseId}`, { key: 'viewer' });
    expect([read.status, read.body.error?.code, read.headers.get('retry-after')]).toEqual([503, 'case_unavailable', expect.any(String)]);
    expect(read.body.error.message).toMatch(/does not replay/);
    // An action makes the worker try a task, which fails the same way: Temporal then refuses queries.
    await sys.call('POST', `/escalations/${caseId}/notes`, { key: 'agent', body: { text: 'anyone?', kind: 'investigation' } });
    const described = await eventually(() => sys.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory(), (h) => (h.events ?? []).some((e) => e.workflowTaskFailedEventAttributes), 'a failed workflow task', 30_000);
    expect(described.events?.length).toBeGreaterThan(0);
    const again = await sys.call('GET', `/escalations/${caseId}`, { key: 'viewer' });
    expect([again.status, again.body.error?.code]).toEqual([503, 'case_unavailable']);
    expect(again.body.error.message).toMatch(/workflow task is failing/);
  });
}, 120_000);

test('a case read before, whose workflow task has failed since, reads as that earlier read, marked stale with the reason', async () => {
  const taskQueue = uniqueId('tq');
  const caseId = uniqueId();
  const today = await Worker.create({ connection: sys.env.nativeConnection, taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities, stickyQueueScheduleToStartTimeout: '1s' });
  const first = await today.runUntil(async () => {
    await start(taskQueue, caseId);
    return eventually(() => sys.call('GET', `/escalations/${caseId}`, { key: 'viewer' }), (r) => r.status === 200 && r.body.messages.every((m: { status: string }) => m.status !== 'pending'), 'the case read');
  });
  expect(first.body.stale).toBeNull();
  // Other code takes the case's next task (an action) and fails it: its history does not replay there.
  const drifted = await Worker.create({ connection: sys.env.nativeConnection, taskQueue, workflowsPath: DRIFTED });
  await drifted.runUntil(async () => {
    await sys.call('POST', `/escalations/${caseId}/notes`, { key: 'agent', body: { text: 'anyone?', kind: 'investigation' } });
    await eventually(() => sys.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory(), (h) => (h.events ?? []).some((e) => e.workflowTaskFailedEventAttributes), 'a failed workflow task', 30_000);
    const read = await sys.call('GET', `/escalations/${caseId}`, { key: 'viewer' });
    expect(read.status).toBe(200);
    expect(read.body.stale).toEqual({ readAt: expect.any(String), note: expect.stringMatching(/workflow task is failing/) });
    const { stale: _s, ...now } = read.body;
    const { stale: _f, ...before } = first.body;
    expect(now).toEqual(before);
  });
}, 120_000);
