/**
 * A worker killed mid-delivery, with real processes: `npm run worker`'s program takes a delivery to a
 * subscriber that never answers it, is killed with SIGKILL, and a second worker sends the delivery again
 * with the same webhook-id once the first stopped heartbeating (README, "Webhooks": a subscriber may see a
 * webhook-id twice, never an event lost).
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../../playbook';
import { ESCALATION_WORKFLOW, type EscalationInput } from '../../workflows/messages';
import { streamWorkflowId } from '../../workflows/webhook-names';
import type { DeliveryRecord } from '../../workflows/webhooks';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { spawnFaultWorker } from '../helpers/fault-worker';
import { waitUntil, writeConfig, type Proc } from '../helpers/processes';
import { startSlack, type SlackFixture } from '../helpers/slack';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';
import { devServerEnv } from '../helpers/temporal';
import { newSecret, startReceiver, type Receiver } from '../helpers/webhook-receiver';

const SECRET = newSecret();
let env: TestWorkflowEnvironment;
let smtp: SmtpFixture;
let slack: SlackFixture;
let rx: Receiver;
let client: Client;
const procs: Proc[] = [];
const taskQueue = uniqueId('hookfaults');

beforeAll(async () => {
  [env, smtp, slack, rx] = await Promise.all([devServerEnv(), startSmtp(), startSlack(), startReceiver(SECRET)]);
  client = new Client({ connection: env.connection, namespace: env.namespace });
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await Promise.all([smtp?.close(), slack?.close(), rx?.close()]);
  await env?.teardown();
});

test('a worker killed while a subscriber holds a delivery: another worker sends it again with the same webhook-id, and nothing is lost', async () => {
  const config = writeConfig({
    slack: { channel: 'C0CASES' },
    webhooks: { allowPrivateTargets: true, endpoints: [{ id: 'crm', url: `${rx.base}/crm`, secrets: [SECRET], events: ['case.opened', 'case.stage_changed'] }] },
  });
  // The first request is never answered; every later one is.
  rx.script('/crm', ['hang', { status: 200 }]);
  const worker = () => {
    const p = spawnFaultWorker({ env, taskQueue, smtpUrl: smtp.url, slackUrl: slack.apiUrl, config });
    procs.push(p);
    return p;
  };
  const first = worker();
  await first.waitFor(/worker running/);
  const caseId = uniqueId('hookkill');
  const input = caseInput();
  const h = await client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
    taskQueue,
    workflowId: workflowIdFor(caseId),
    args: [{ caseId, input, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
    staticSummary: caseSummary(input),
  });
  await waitUntil(() => rx.at('/crm').length, (n) => n === 1, 'the first delivery held at the subscriber');
  // Killed at once: were the kill to wait for another worker's start, a slow start could outlast the
  // attempt's own 15 s timeout, and the attempt would end as a timeout, not as lost.
  await first.kill('SIGKILL');
  const killedAt = Date.now();
  await worker().waitFor(/worker running/);
  const startedIn = (Date.now() - killedAt) / 1000;
  // The case goes on while its delivery waits: the next event follows.
  await h.executeUpdate('acknowledge', { args: [{ by: 'sam' }] });

  const stream = client.workflow.getHandle(streamWorkflowId('crm', caseId));
  const done = await waitUntil(
    () => stream.query<DeliveryRecord[]>('webhookDeliveries'),
    (ds) => ds.length === 2 && ds.every((d) => d.status === 'delivered'),
    'both deliveries delivered',
    60_000,
  );
  const seconds = (rx.at('/crm').find((r, i) => i > 0 && r.headers['webhook-id'] === done[0].id)!.at - killedAt) / 1000;
  console.log(`worker SIGKILL → the held webhook sent again in ${seconds.toFixed(1)} s (heartbeat timeout 5 s + the schedule's 5 s; the next worker running after ${startedIn.toFixed(1)} s)`);
  expect(seconds).toBeLessThan(Math.max(startedIn, 10) + 30);
  // The held one: a lost attempt, then delivered; the same id at most twice at the subscriber, each verified.
  expect(done[0].attempts.map((a) => a.status ?? 'lost')).toEqual(['lost', 200]);
  expect(done[0].attempts[0].error).toMatch(/no answer from the attempt/);
  const byId = (id: string) => rx.at('/crm').filter((r) => r.headers['webhook-id'] === id);
  expect(byId(done[0].id)).toHaveLength(2);
  expect(byId(done[1].id)).toHaveLength(1);
  expect(rx.at('/crm').every((r) => r.verified.ok)).toBe(true);
  expect(done.map((d) => [d.sequence, d.type])).toEqual([
    [1, 'case.opened'],
    [2, 'case.stage_changed'],
  ]);
}, 150_000);
