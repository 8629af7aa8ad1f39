/**
 * A delivery's retries on the Standard Webhooks schedule, on the time-skipping server: the stream's
 * durable timers wait 5 s, 5 min, 30 min, … between attempts (measured in the workflow's clock), a
 * Retry-After longer than the schedule's wait is honoured, and the schedule ends in `failed` after its
 * last attempt, about three days on. Real attempts, to a subscriber on loopback.
 */
import { Worker } from '@temporalio/worker';
import { createWebhookActivities } from '../../activities/webhooks';
import { RETRY_SCHEDULE_MS } from '../../playbook';
import { WEBHOOK_STREAM_WORKFLOW, streamWorkflowId } from '../../workflows/webhook-names';
import type { DeliveryRecord } from '../../workflows/webhooks';
import { uniqueId } from '../helpers/fixtures';
import { timeSkippingSuite } from '../helpers/workflow-harness';
import { newSecret, startReceiver, type Answer, type Receiver } from '../helpers/webhook-receiver';

const suite = timeSkippingSuite();
const SECRET = newSecret();
let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver(SECRET);
});
afterAll(() => rx?.close());

/** One event through a stream whose endpoint answers as scripted; the stream's records once it ended (7 idle days, skipped). */
async function deliverOne(path: string, answers: Answer[], historyLimit?: number): Promise<DeliveryRecord> {
  rx.script(path, answers);
  const taskQueue = uniqueId('tq');
  const endpoint = 'sub';
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    namespace: suite.env.namespace ?? 'default',
    taskQueue,
    workflowBundle: suite.code,
    activities: createWebhookActivities({
      config: { allowPrivateTargets: true, endpoints: [{ id: endpoint, url: `${rx.base}${path}`, secrets: [SECRET] }] },
      client: () => suite.env.client,
    }),
  });
  const caseId = uniqueId('case');
  const body = JSON.stringify({ type: 'case.opened', timestamp: new Date().toISOString(), data: { sequence: 1, case: { id: caseId } } });
  return worker.runUntil(async () => {
    const handle = await suite.env.client.workflow.signalWithStart(WEBHOOK_STREAM_WORKFLOW, {
      workflowId: streamWorkflowId(endpoint, caseId),
      taskQueue,
      args: [{ endpoint, caseId, ...(historyLimit ? { historyLimit } : {}) }],
      signal: 'webhookEvents',
      signalArgs: [[{ type: 'case.opened', sequence: 1, team: 'default', body }]],
    });
    const records = (await handle.result()) as DeliveryRecord[];
    expect(records).toHaveLength(1);
    if (historyLimit) {
      // It went on in new runs: the first one continued as new, carrying the delivery with its attempts and schedule.
      const first = await suite.env.client.workflow.getHandle(handle.workflowId, handle.signaledRunId, { followRuns: false }).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
    }
    return records[0];
  });
}

const gaps = (d: DeliveryRecord) => d.attempts.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(d.attempts[i].at));
/** Each gap is the schedule's wait, plus the attempt's own time and the timer's (a second at most here). */
const near = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((g, i) => {
    expect(g).toBeGreaterThanOrEqual(expected[i]);
    expect(g).toBeLessThan(expected[i] + 2_000);
  });
};

test('a subscriber that answers 503, then 200, gets the delivery on the schedule: 5 s, then 5 min, then 30 min', async () => {
  const d = await deliverOne('/flaky', [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }]);
  expect(d.status).toBe('delivered');
  expect(d.attempts.map((a) => a.status)).toEqual([503, 503, 503, 200]);
  near(gaps(d), [5_000, 300_000, 1_800_000]);
  // Every attempt is the same delivery: one webhook-id, the same bytes, each verified by the subscriber.
  const got = rx.at('/flaky');
  expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
  expect(new Set(got.map((r) => r.body)).size).toBe(1);
  expect(got.every((r) => r.verified.ok)).toBe(true);
}, 60_000);

test('a Retry-After longer than the schedule’s wait is honoured; 429 is tried again like a 5xx', async () => {
  const d = await deliverOne('/busy', [{ status: 429, retryAfter: '3600' }, { status: 503, retryAfter: '1' }, { status: 200 }]);
  expect(d.attempts.map((a) => a.status)).toEqual([429, 503, 200]);
  near(gaps(d), [3_600_000, 300_000]); // an hour (not 5 s); then the schedule's 5 min (a shorter Retry-After waits no less)
}, 60_000);

test('an endpoint that never succeeds is tried 10 times over about three days, then the delivery has failed', async () => {
  const d = await deliverOne('/down', [{ status: 500 }]);
  expect(d.status).toBe('failed');
  expect(d.attempts).toHaveLength(RETRY_SCHEDULE_MS.length + 1);
  near(gaps(d), [...RETRY_SCHEDULE_MS]);
  const span = Date.parse(d.attempts.at(-1)!.at) - Date.parse(d.attempts[0].at);
  expect(span / 3_600_000).toBeGreaterThan(75); // 75.6 h
}, 60_000);

test('an answer of 404 ends the delivery as failed at once, with no retry', async () => {
  const failed = await deliverOne('/missing', [{ status: 404 }]);
  expect([failed.status, failed.attempts.length]).toEqual(['failed', 1]);
}, 60_000);

test('a stream that continues as new mid-schedule carries its delivery on: the same attempts, the same waits', async () => {
  const d = await deliverOne('/long', [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }], 12);
  expect(d.status).toBe('delivered');
  expect(d.attempts.map((a) => a.status)).toEqual([503, 503, 503, 200]);
  near(gaps(d), [5_000, 300_000, 1_800_000]);
}, 60_000);
