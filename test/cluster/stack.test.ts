/**
 * The service as a team runs it beyond one machine: two workers and two API processes against the
 * Temporal server on PostgreSQL that `npm run test:cluster` starts (a namespace of this file's own),
 * with a real SMTP server and the Slack Web API of this process. Then the stack `npm run cluster`
 * itself started (its own two workers and two APIs) answers too.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getCaseQuery } from '../../workflows/messages';
import { workflowIdFor } from '../../playbook';
import { clusterAddress, devServerEnv } from '../helpers/temporal';
import { freePort, spawnProgram, waitUntil, writeConfig, type Proc } from '../helpers/processes';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';
import { startSlack, type SlackFixture } from '../helpers/slack';
import { openBody } from '../helpers/system';
import { uniqueId } from '../helpers/fixtures';

const KEY = 'stack-admin-key-0123456789abcdef';
let env: TestWorkflowEnvironment;
let smtp: SmtpFixture;
let slack: SlackFixture;
let config: string;
const workers: Proc[] = [];
const apis: { proc: Proc; base: string }[] = [];
const taskQueue = uniqueId('stack');

beforeAll(async () => {
  if (!clusterAddress) throw new Error('test/cluster runs under `npm run test:cluster` (TEMPORAL_TEST_ADDRESS is not set)');
  [env, smtp, slack] = await Promise.all([devServerEnv(), startSmtp(), startSlack()]);
  config = writeConfig({
    slack: { channel: 'C0CASES' },
    roster: { supportLead: { name: 'Lee Park', email: 'lee@vendor.example' }, engineering: { name: 'Eng on-call', email: 'oncall@vendor.example' }, csmManager: { name: 'Ana Ruiz', email: 'ana@vendor.example' } },
  });
  for (let i = 0; i < 2; i++) workers.push(worker());
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    apis.push({ proc: spawnProgram('api/main.ts', { ...common(), PORT: String(port), API_KEYS: `stack-admin:admin:${KEY}` }), base: `http://127.0.0.1:${port}` });
  }
  await Promise.all([...workers.map((w) => w.waitFor(/worker running/)), ...apis.map((a) => a.proc.waitFor(/API on http/))]);
}, 180_000);

afterAll(async () => {
  await Promise.all([...workers, ...apis.map((a) => a.proc)].map((p) => p.kill('SIGTERM')));
  await Promise.all([smtp?.close(), slack?.close()]);
  await env?.teardown();
}, 60_000);

function common(): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: clusterAddress!,
    TEMPORAL_NAMESPACE: env.namespace!,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ESCALATION_CONFIG: config,
    LINK_SECRET: 'stack-test-link-secret-0123456789',
    EMAIL_FROM: 'escalations@vendor.example',
    DATA_DIR: '/tmp',
  };
}

function worker(): Proc {
  return spawnProgram('worker/main.ts', { ...common(), SMTP_URL: smtp.url, SLACK_BOT_TOKEN: 'xoxb-good', SLACK_API_URL: slack.apiUrl });
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, key = KEY) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
/** The i-th request goes to the i-th API, round robin, as a load balancer spreads them. */
const api = (i: number) => apis[i % apis.length].base;
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

test('idempotent opens spread over both APIs: twenty at once with one key make one case', async () => {
  const body = openBody({ customer: { ...openBody().customer, id: 'spread-co' } });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(api(i), 'POST', '/escalations', body, { 'Idempotency-Key': 'crm-4242' })));
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  expect(results.filter((r) => r.status === 200)).toHaveLength(19);
  expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  for (const base of apis.map((a) => a.base)) {
    const listed = await waitUntil(() => call(base, 'GET', '/escalations?customerId=spread-co'), (r) => r.body.items.length >= 1, 'the case listed', 30_000);
    expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([results[0].body.id]);
  }
});

test('every list filter, the deadline order and the reports: the same answers from both APIs', async () => {
  const customer = (id: string) => ({ ...openBody().customer, id });
  const opened: { id: string; severity: string }[] = [];
  const specs = [
    { severity: 'low', customer: customer('filter-a'), csm: { name: 'Kim Lo', email: 'kim@vendor.example' } },
    { severity: 'critical', customer: { ...customer('filter-b'), segment: 'smb' } },
    { severity: 'high', customer: customer('filter-a') },
    { severity: 'medium', customer: customer('filter-c'), csm: { name: 'Kim Lo', email: 'kim@vendor.example' } },
  ];
  for (const [i, s] of specs.entries()) {
    const r = await call(api(i), 'POST', '/escalations', openBody(s));
    expect(r.status).toBe(201);
    opened.push({ id: r.body.id, severity: s.severity });
  }
  const [low, critical, high] = opened;
  // One acknowledged (stage investigate), one closed by an admin.
  expect((await call(api(1), 'POST', `/escalations/${high.id}/acknowledge`, { note: 'Engineers are reproducing it.', nextUpdateAt: inHours(2) })).status).toBe(200);
  expect((await call(api(0), 'POST', `/escalations/${low.id}/close`, { reason: 'duplicate of another case' })).status).toBe(200);

  const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((x) => x.id);
  const mine = new Set(opened.map((o) => o.id));
  const cases: [string, string[]][] = [
    ['customerId=filter-a', [low.id, high.id]],
    ['customerId=filter-a&status=open', [high.id]],
    ['customerId=filter-a&status=closed', [low.id]],
    ['csm=kim%40vendor.example', [low.id, opened[3].id]],
    ['severity=critical', [critical.id]],
    ['stage=investigate', [high.id]],
    ['stage=acknowledge&status=open', [critical.id, opened[3].id]],
    ['breached=false&status=open', [critical.id, high.id, opened[3].id]],
    ['breached=true', []],
  ];
  for (const [query, expected] of cases) {
    for (const base of apis.map((a) => a.base)) {
      const r = await waitUntil(
        () => call(base, 'GET', `/escalations?${query}&limit=100`),
        (x) => x.status === 200 && ids(x).filter((id) => mine.has(id)).sort().join() === [...expected].sort().join(),
        `${query} on ${base}`,
        30_000,
      );
      expect(r.status).toBe(200);
    }
  }
  // The deadline order (the board's): soonest first, on both APIs alike, paged with the cursor.
  const sorted = await Promise.all(apis.map((a) => call(a.base, 'GET', '/escalations?status=open&sort=nextDeadline&limit=100')));
  expect(ids(sorted[0])).toEqual(ids(sorted[1]));
  const deadlines = sorted[0].body.items.map((x: { nextDeadline: string | null }) => (x.nextDeadline ? Date.parse(x.nextDeadline) : Infinity));
  expect(deadlines).toEqual([...deadlines].sort((a, b) => a - b));
  const page1 = await call(api(0), 'GET', '/escalations?status=open&sort=nextDeadline&limit=2');
  const page2 = await call(api(1), 'GET', `/escalations?status=open&sort=nextDeadline&limit=2&cursor=${page1.body.nextCursor}`);
  expect([...ids(page1), ...ids(page2)]).toEqual(ids(sorted[0]).slice(0, 4));
  // Plain paging with Temporal's own token, handed from one API to the other.
  const p1 = await call(api(0), 'GET', '/escalations?limit=3');
  const p2 = await call(api(1), 'GET', `/escalations?limit=100&cursor=${p1.body.nextCursor}`);
  expect(new Set([...ids(p1), ...ids(p2)]).size).toBe(ids(p1).length + ids(p2).length);
  expect([...ids(p1), ...ids(p2)].filter((id) => mine.has(id)).sort()).toEqual([...mine].sort());

  const reports = await Promise.all(apis.map((a) => call(a.base, 'GET', '/reports/escalations?severity=high')));
  expect(reports[0].status).toBe(200);
  expect(reports[0].body).toEqual(reports[1].body);
  expect(reports[0].body.timeToAcknowledge.count).toBeGreaterThanOrEqual(1);
  const smb = await call(api(1), 'GET', '/reports/escalations?segment=smb');
  expect(smb.body.cases).toBe(1);
});

test('a worker killed during a burst of actions: every action lands once, every email once by Message-ID, one Slack thread a case', async () => {
  const n = 8;
  const opened = await Promise.all(Array.from({ length: n }, (_, i) => call(api(i), 'POST', '/escalations', openBody({ customer: { ...openBody().customer, id: `burst-${i}` } }))));
  expect(opened.map((r) => r.status)).toEqual(Array(n).fill(201));
  const caseIds: string[] = opened.map((r) => r.body.id);
  // Acknowledge, note and update each case across both APIs; kill a worker once the burst is under way.
  const actions = caseIds.flatMap((id, i) => [
    { i, path: `/escalations/${id}/acknowledge`, body: { note: 'We have reproduced it and are fixing it.', nextUpdateAt: inHours(2) } },
    { i: i + 1, path: `/escalations/${id}/notes`, body: { text: 'Sync worker runs out of memory', kind: 'root_cause' } },
    { i, path: `/escalations/${id}/updates`, body: { known: 'Large exports crash the sync worker', workaround: 'split the export', nextUpdateAt: inHours(3) } },
  ]);
  let killed = false;
  const send = async (a: (typeof actions)[number], k: number) => {
    const key = `burst-${k}`;
    // An action refused for want of a worker (503) is sent again with its key, as the API asks.
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await call(api(a.i + attempt), 'POST', a.path, a.body, { 'Idempotency-Key': key });
      if (r.status !== 503) return r;
      await new Promise((res) => setTimeout(res, 1000));
    }
    throw new Error(`${a.path} answered 503 ten times`);
  };
  const results: Promise<{ status: number; body: { stage?: string } }>[] = [];
  for (const [k, group] of [actions.filter((_, j) => j % 3 === 0), actions.filter((_, j) => j % 3 === 1), actions.filter((_, j) => j % 3 === 2)].entries()) {
    results.push(...group.map((a, j) => send(a, k * 100 + j)));
    if (!killed) {
      await new Promise((r) => setTimeout(r, 200));
      await workers[0].kill('SIGKILL');
      killed = true;
    }
    await Promise.all(results);
  }
  const answered = await Promise.all(results);
  expect(answered.map((r) => r.status)).toEqual(Array(actions.length).fill(200));
  workers.push(worker()); // the killed one back, as a supervisor restarts it
  for (const id of caseIds) {
    const c = await waitUntil(
      () => env.client.workflow.getHandle(workflowIdFor(id)).query(getCaseQuery),
      (x) => x.messages.every((m) => m.status === 'sent'),
      `every message of ${id} sent`,
      90_000,
    );
    expect(c.stage).toBe('communicate');
    expect(c.timeline.filter((e) => e.type === 'acknowledged')).toHaveLength(1);
    expect(c.notes).toHaveLength(1);
    expect(c.timeline.filter((e) => e.type === 'update')).toHaveLength(1);
    const emails = c.messages.filter((m) => m.channel === 'email');
    const arrived = new Set(smtp.received.filter((r) => String(r.mail.messageId).includes(id)).map((r) => r.mail.messageId));
    expect(arrived.size).toBe(emails.length);
    expect(slack.roots(id)).toHaveLength(1);
  }
}, 240_000);

test('one case from open to closed, each step through either API', async () => {
  const opened = await call(api(0), 'POST', '/escalations', openBody({ severity: 'high' }));
  expect(opened.status).toBe(201);
  const id = opened.body.id as string;
  const steps: [string, unknown, string][] = [
    ['acknowledge', { note: 'Engineers are reproducing it.', nextUpdateAt: inHours(2) }, 'investigate'],
    ['updates', { known: 'Large exports crash the sync worker', workaround: 'split the export', nextUpdateAt: inHours(3) }, 'communicate'],
    ['resolve', { rootCause: 'Memory limit', fix: 'Streamed uploads', prevention: 'Load tests' }, 'resolve'],
  ];
  for (const [i, [path, body, stage]] of steps.entries()) {
    const r = await call(api(i + 1), 'POST', `/escalations/${id}/${path}`, body);
    expect([path, r.status, r.body.stage]).toEqual([path, 200, stage]);
  }
  const confirmed = await call(api(0), 'POST', `/escalations/${id}/confirmation`, { resolved: true });
  expect([confirmed.status, confirmed.body.stage]).toEqual([200, 'follow_up']);
  for (const [i, task] of ['recovery_call', 'follow_up'].entries()) expect((await call(api(i), 'POST', `/escalations/${id}/tasks/${task}/complete`, { notes: 'Called Dana' })).status).toBe(200);
  expect((await call(api(1), 'POST', `/escalations/${id}/outcome`, { churned: false, note: 'Renewed' })).status).toBe(200);
  const done = await call(api(0), 'POST', `/escalations/${id}/tasks/health_check/complete`, { notes: 'All good' });
  expect(done.body).toMatchObject({ stage: 'closed', status: 'closed' });
  for (const base of apis.map((a) => a.base)) {
    expect((await call(base, 'GET', `/escalations/${id}`)).body).toMatchObject({ stage: 'closed', status: 'closed' });
    await waitUntil(() => call(base, 'GET', `/escalations?status=closed&customerId=acme`), (r) => r.body.items.some((x: { id: string }) => x.id === id), 'listed as closed', 30_000);
  }
  const run = await env.client.workflow.getHandle(workflowIdFor(id)).describe();
  expect(run.status.name).toBe('COMPLETED');
}, 120_000);

test('`npm run cluster` itself: its two APIs and two workers answer on the namespace it made', async () => {
  const urls = (process.env.CLUSTER_API_URLS ?? '').split(',').filter(Boolean);
  const key = process.env.CLUSTER_API_KEY!;
  expect(urls).toHaveLength(2);
  const body = openBody({ customer: { ...openBody().customer, id: 'npm-run-cluster' } });
  const first = await call(urls[0], 'POST', '/escalations', body, { 'Idempotency-Key': 'cluster-1' }, key);
  const again = await call(urls[1], 'POST', '/escalations', body, { 'Idempotency-Key': 'cluster-1' }, key);
  expect([first.status, again.status, again.body.id]).toEqual([201, 200, first.body.id]);
  expect((await call(urls[1], 'GET', `/escalations/${first.body.id}`, undefined, {}, key)).body.stage).toBe('acknowledge');
  // Its workers deliver: with no SMTP_URL the opening email lands in the outbox under DATA_DIR.
  await waitUntil(() => readdirSync(join(process.env.CLUSTER_DATA_DIR!, 'outbox')), (files) => files.some((f) => f.includes(first.body.id)), 'the opening email in the outbox', 60_000);
  const acked = await call(urls[1], 'POST', `/escalations/${first.body.id}/acknowledge`, { note: 'Engineers are reproducing it.', nextUpdateAt: inHours(2) }, {}, key);
  expect([acked.status, acked.body.stage]).toEqual([200, 'investigate']);
});
