import { Client, Connection } from '@temporalio/client';
import { EscalationService } from '../../api/service';
import { listQuerySchema, openSchema } from '../../api/schemas';
import { SORTED_FRESH_MS } from '../../api/visibility';
import { DEFAULT_POLICY } from '../../playbook';
import { uniqueId } from '../helpers/fixtures';
import { eventually, openBody, startSystem, type System } from '../helpers/system';

/**
 * The board's list sorted by next deadline reads every matching case's attributes: with the team on the
 * board through a burst it was most of the server's load besides the burst. One API process shares a
 * read among the requests of SORTED_FRESH_MS, answers a kept read at once while reading again, and says
 * when the cases were read. A real dev server; the service's visibility calls counted.
 */
let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 120_000);
const connections: Connection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await sys?.stop();
});

/** A service of its own connection (a connection's calls are shared by its clients), its list calls counted. */
async function countingService() {
  connections.push(await Connection.connect({ address: sys.env.address }));
  const client = new Client({ connection: connections.at(-1)!, namespace: sys.env.namespace ?? 'default' });
  const calls = { list: 0 };
  const list = client.workflowService.listWorkflowExecutions.bind(client.workflowService);
  client.workflowService.listWorkflowExecutions = ((req: Parameters<typeof list>[0]) => {
    calls.list++;
    return list(req);
  }) as typeof list;
  return { service: new EscalationService({ client, taskQueue: sys.taskQueue, policy: () => DEFAULT_POLICY }), calls };
}

test('requests for the same sorted list share one read; within a second they are answered from it; then from it at once while it is read again, which the next request gets, with its time', async () => {
  const csm = { name: 'Lee Park', email: `${uniqueId('lee')}@vendor.example` };
  const open = () => sys.service.open(openSchema.parse(openBody({ csm })));
  await open();
  await eventually(() => sys.service.list(listQuerySchema.parse({ csm: csm.email })), (p) => p.items.length === 1, 'the first case listed');
  const { service, calls } = await countingService();
  const sorted = listQuerySchema.parse({ csm: csm.email, sort: 'nextDeadline', status: 'open' });

  // Six at once: one read of Temporal (one page: fewer than 1,000 cases), one answer.
  const six = await Promise.all(Array.from({ length: 6 }, () => service.list(sorted)));
  expect(calls.list).toBe(1);
  expect(new Set(six.map((p) => p.listedAt)).size).toBe(1);
  expect(six[0].items.map((i) => i.csm)).toEqual([csm.email]);
  // Within SORTED_FRESH_MS: the same read.
  expect((await service.list(sorted)).listedAt).toBe(six[0].listedAt);
  expect(calls.list).toBe(1);

  // A second case, listed by Temporal; past SORTED_FRESH_MS the kept read answers at once, and is read again.
  await open();
  await eventually(() => sys.service.list(listQuerySchema.parse({ csm: csm.email })), (p) => p.items.length === 2, 'the second case listed');
  await new Promise((r) => setTimeout(r, SORTED_FRESH_MS + 100));
  const kept = await service.list(sorted);
  expect([kept.listedAt, kept.items.length]).toEqual([six[0].listedAt, 1]);
  const fresh = await eventually(() => service.list(sorted), (p) => p.listedAt !== six[0].listedAt, 'the list read again');
  expect(fresh.items.length).toBe(2);
  expect(Date.parse(fresh.listedAt)).toBeGreaterThan(Date.parse(six[0].listedAt));
  expect(calls.list).toBe(2);

  // Other filters are another list; an unsorted list is read each time, and says when.
  const other = await service.list(listQuerySchema.parse({ csm: csm.email, sort: 'nextDeadline' }));
  expect(calls.list).toBe(3);
  expect(other.items.length).toBe(2);
  const plain = await service.list(listQuerySchema.parse({ csm: csm.email }));
  const plainAgain = await service.list(listQuerySchema.parse({ csm: csm.email }));
  expect(calls.list).toBe(5);
  expect(Date.parse(plainAgain.listedAt)).toBeGreaterThanOrEqual(Date.parse(plain.listedAt));
}, 120_000);

test('the page over HTTP says when its cases were read', async () => {
  const r = await sys.call('GET', '/escalations?status=open&sort=nextDeadline&limit=5', { key: 'viewer' });
  expect(r.status).toBe(200);
  expect(Number.isNaN(Date.parse(r.body.listedAt))).toBe(false);
});
