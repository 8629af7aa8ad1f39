import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { EscalationService } from '../../api/service';
import { openSchema } from '../../api/schemas';
import { DEFAULT_POLICY, workflowIdFor, type Policy } from '../../playbook';
import { QUERY_DEADLINE_MS, READ_PATIENCE_MS } from '../../api/case-reader';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';
import { uniqueId } from '../helpers/fixtures';
import { recordingActivities } from '../helpers/workflow-harness';
import { eventually, openBody, startSystem, type System } from '../helpers/system';

/**
 * Repeated reads of a case: the API answers a view it read before only while Temporal reports the
 * same run and history length, on a real dev server with the real worker.
 */
let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 120_000);
afterAll(() => sys?.stop());

/** A service on the system's queue whose client counts the queries and describes it sends. */
function countingService(viewCacheBytes?: number, taskQueue = sys.taskQueue, connection: Connection = sys.env.connection, policy: Policy = DEFAULT_POLICY) {
  const sent = { query: 0, describe: 0 };
  /** How each query sent ended ('answered', or its error), in the order they ended: none stays in flight unseen. */
  const ended: string[] = [];
  const counter: WorkflowClientInterceptor = {
    query: (input, next) => {
      sent.query++;
      const asked = next(input);
      asked.then(
        () => ended.push('answered'),
        (err: unknown) => ended.push(`${(err as Error)?.name}: ${(err as Error)?.message} (${String((err as Error)?.cause)})`),
      );
      return asked;
    },
  };
  const client = new Client({ connection, namespace: sys.env.namespace ?? 'default', interceptors: { workflow: [counter] } });
  // The describe that reads a workflow's position goes to the service directly: count it there.
  const describe = client.workflowService.describeWorkflowExecution.bind(client.workflowService);
  client.workflowService.describeWorkflowExecution = ((req: Parameters<typeof describe>[0]) => {
    sent.describe++;
    return describe(req);
  }) as typeof describe;
  const service = new EscalationService({ client, taskQueue, policy: () => policy, viewCacheBytes });
  return { service, sent, ended };
}

/** Opens a case and waits until the worker has delivered its opening messages (its history at rest). */
async function settledCase(service: EscalationService) {
  const { case: opened } = await service.open(openSchema.parse(openBody()));
  await eventually(() => service.get(opened.id), (v) => v.messages.length > 0 && v.messages.every((m) => m.status !== 'pending'), 'opening messages delivered');
  return opened.id;
}

test('a case read again with no event added since is answered without a query; an action is seen at the next read', async () => {
  const id = await settledCase(sys.service);
  const { service, sent } = countingService();
  // The first read is the query alone; the second describes and queries (it keeps what it reads); the third only describes.
  const first = await service.get(id);
  expect(sent).toEqual({ query: 1, describe: 0 });
  const again = await service.get(id);
  expect(sent).toEqual({ query: 2, describe: 1 });
  const third = await service.get(id);
  expect(sent).toEqual({ query: 2, describe: 2 });
  expect(again).toEqual(first);
  expect(third).toEqual(first);

  await service.act(id, 'acknowledge', { by: 'agent-user', note: 'Looking into it.', nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString() });
  const q = sent.query;
  const acknowledged = await service.get(id);
  expect(acknowledged.stage).not.toBe(first.stage);
  expect(acknowledged.acknowledgedAt).toEqual(expect.any(String));
  expect(sent.query).toBe(q + 1);
}, 120_000);

/** Until every message the case asked for is recorded (sent, skipped or failed), read through the system's own API. */
const settled = (id: string) => eventually(() => sys.service.get(id), (v) => v.messages.every((m) => m.status !== 'pending'), 'every message recorded');

test('two API processes each keep their views and agree: an action taken through one is read through the other', async () => {
  const id = await settledCase(sys.service);
  // Each with its own connection and its own kept views, as two API processes behind a load balancer.
  const own = async () => {
    const connection = await Connection.connect({ address: sys.env.address });
    return { ...countingService(undefined, sys.taskQueue, connection), close: () => connection.close() };
  };
  const a = await own();
  const b = await own();
  try {
    for (const p of [a, b]) for (let i = 0; i < 3; i++) await p.service.get(id);
    // Both now answer from their kept views: a fourth read only describes.
    const [qa, qb] = [a.sent.query, b.sent.query];
    const [keptA, keptB] = [await a.service.get(id), await b.service.get(id)];
    expect([a.sent.query, b.sent.query]).toEqual([qa, qb]);
    expect(keptA).toEqual(keptB);
    expect(keptA.acknowledgedAt).toBeFalsy();

    await b.service.act(id, 'acknowledge', { by: 'agent-user', note: 'Looking into it.', nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString() });
    const seenByA = await a.service.get(id);
    expect(a.sent.query).toBe(qa + 1);
    expect(seenByA.acknowledgedAt).toEqual(expect.any(String));
    // The acknowledgement's email to the customer is its own activity (rules 6), recorded when it is
    // sent, after the action's answer: once it is, both processes read the same case.
    await settled(id);
    expect(await a.service.get(id)).toEqual(await b.service.get(id));

    // And back: a note through A, read through B.
    await a.service.act(id, 'note', { by: 'agent-user', text: 'Second look.' });
    const seenByB = await b.service.get(id);
    expect(seenByB.timeline.some((t) => JSON.stringify(t).includes('Second look.'))).toBe(true);
    expect(seenByB).toEqual(await a.service.get(id));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 120_000);

test('what the worker adds later (delivery results) is read, not the view kept before it', async () => {
  const { service, sent } = countingService();
  // Read twice while the opening step may still run: the second read keeps a view and its position.
  const { case: opened } = await service.open(openSchema.parse(openBody()));
  await service.get(opened.id).catch(() => undefined);
  await service.get(opened.id).catch(() => undefined);
  // Every later read either answers the kept view (nothing added) or queries: it ends delivered.
  const settled = await eventually(() => service.get(opened.id), (v) => v.messages.length > 0 && v.messages.every((m) => m.status !== 'pending'), 'opening messages delivered');
  expect(settled.messages.every((m) => m.status === 'sent')).toBe(true);
  expect(sent.describe).toBeGreaterThan(0);
}, 120_000);

test('a terminated case kept from before reads as closed, with the reason Temporal recorded', async () => {
  const { service } = countingService();
  const id = await settledCase(service);
  await service.get(id);
  const open = await service.get(id);
  expect(open.status).toBe('open');
  await sys.client.workflow.getHandle(workflowIdFor(id)).terminate('operator cleanup');
  const closed = await service.get(id);
  expect(closed.status).toBe('closed');
  expect(closed.closeReason).toContain('operator cleanup');
}, 120_000);

test('with no room for views (0 bytes) every read queries', async () => {
  const id = await settledCase(sys.service);
  const { service, sent } = countingService(0);
  const before = { ...sent };
  await service.get(id);
  await service.get(id);
  await service.get(id);
  expect(sent.query - before.query).toBe(3);
  expect(sent.describe - before.describe).toBe(0);
}, 120_000);

test('a kept case whose workflow was deleted reads as 404', async () => {
  const { service } = countingService();
  const id = await settledCase(service);
  await service.get(id);
  await service.get(id);
  await sys.client.workflowService.deleteWorkflowExecution({ namespace: sys.env.namespace ?? 'default', workflowExecution: { workflowId: workflowIdFor(id) } });
  // Temporal deletes in the background: the read answers the kept view only until the workflow is gone.
  const gone = await eventually(() => service.get(id).then(() => 0, (e: { status?: number }) => e.status ?? -1), (s) => s !== 0, 'the read no longer answering');
  expect(gone).toBe(404);
}, 120_000);

test('with its worker gone, a kept case with nothing added since still reads at once', async () => {
  const taskQueue = uniqueId('tq');
  const { service, sent } = countingService(undefined, taskQueue);
  const worker = await Worker.create({ connection: sys.env.nativeConnection, namespace: sys.env.namespace ?? 'default', taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities });
  const kept = await worker.runUntil(async () => {
    const id = await settledCase(service);
    await service.get(id);
    return { id, view: await service.get(id) };
  });
  const queries = sent.query;
  // No query, which would wait for a worker (15 s at most, then 503).
  expect(await service.get(kept.id)).toEqual(kept.view);
  expect(sent.query).toBe(queries);
}, 120_000);

test('with no worker answering and the case moved on since (a deadline passed), a kept case reads within the patience, marked stale with when it was read; once a worker answers, the next read is the case now', async () => {
  const taskQueue = uniqueId('tq');
  // Acknowledge within 6 s: the deadline passes while no worker runs, so Temporal adds its timer's event.
  const { service, sent, ended } = countingService(undefined, taskQueue, sys.env.connection, { ...DEFAULT_POLICY, acknowledgeWithin: '6s' });
  const run = () => Worker.create({ connection: sys.env.nativeConnection, namespace: sys.env.namespace ?? 'default', taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities });
  const kept = await (await run()).runUntil(async () => {
    const id = await settledCase(service);
    const view = await service.get(id);
    return { id, view, readBy: new Date().toISOString() };
  });
  expect(kept.view.stale).toBeNull();
  expect(kept.view.breaches).toEqual([]);
  const describe = () => sys.client.workflow.getHandle(workflowIdFor(kept.id)).describe();
  const length = (await describe()).historyLength;
  await eventually(describe, (d) => d.historyLength > length, 'the acknowledge deadline recorded by Temporal with no worker running', 30_000);

  const queries = sent.query;
  const began = Date.now();
  const stale = await service.get(kept.id);
  const tookMs = Date.now() - began;
  // It waited for the worker as long as its patience, not for the query's whole deadline.
  expect(tookMs).toBeGreaterThanOrEqual(READ_PATIENCE_MS - 50);
  expect(tookMs).toBeLessThan(QUERY_DEADLINE_MS);
  expect(sent.query).toBe(queries + 1);
  // The view read before, said to be so: when it was read, and that events since are not shown.
  expect(stale.stale).toEqual({ readAt: expect.any(String), note: expect.stringContaining('did not answer within') });
  expect(Date.parse(stale.stale!.readAt)).toBeLessThanOrEqual(Date.parse(kept.readBy));
  const { stale: _s, ...rest } = stale;
  const { stale: _k, ...before } = kept.view;
  expect(rest).toEqual(before);
  // Its query was cancelled with the answer, not left waiting for a worker until its deadline
  // (QUERY_DEADLINE_MS): a call left in flight once outlived the connection it was sent on.
  await eventually(async () => ended.length, (n) => n === sent.query, 'every query sent ended', 5_000);
  expect(ended.at(-1)).toMatch(/cancel|abort/i);

  // A worker again: the query answers, and the read is the case now, its breach in it.
  const now = await (await run()).runUntil(() => eventually(() => service.get(kept.id), (v) => v.stale === null && v.breaches.length > 0, 'the case read as it is now'));
  expect(now.breaches.map((b) => b.kind)).toContain('acknowledge');
}, 120_000);
