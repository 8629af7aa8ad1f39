/**
 * Faults of the parts a deployment runs: the Temporal dev server killed and restarted on its database,
 * and two workers and two APIs (the programs of `npm run worker` / `npm run api`) with one of each
 * killed during a burst of opens and acknowledgements.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { devServerExecutable } from '../../config/temporal-binaries';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../../playbook';
import { ACTION_UPDATES, ALL_SEARCH_ATTRIBUTES, ESCALATION_WORKFLOW, getCaseQuery, type EscalationInput } from '../../workflows/messages';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { freePort, portIsFree, runToExit, spawnProgram, waitUntil, writeConfig, type Proc } from '../helpers/processes';
import { openBody } from '../helpers/system';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';

const cli = devServerExecutable();
const maybe = cli.type === 'existing-path' ? describe : describe.skip;
if (cli.type !== 'existing-path') console.warn('skipping: no Temporal CLI found (run scripts/install-tools.sh)');

/** `temporal server start-dev` as its own process, on a database file that outlives it. */
function devServer(port: number, db: string): { proc: ChildProcess; kill: () => Promise<void> } {
  const proc = spawn((cli as { path: string }).path, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', db, '--log-level', 'error'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

async function connect(address: string): Promise<Client> {
  const connection = await waitUntil(
    async () => {
      const c = await Connection.connect({ address, connectTimeout: 2_000 });
      await c.workflowService.getSystemInfo({});
      return c;
    },
    (c) => c !== undefined,
    `Temporal at ${address}`,
    60_000,
  );
  return new Client({ connection });
}

/** A server listening on a port whose predecessor is free (so METRICS_PORT can be set to it). */
async function squatOnPortAfterAFreeOne(): Promise<{ server: Server; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    if (port > 1 && (await portIsFree(port - 1))) return { server, port };
    await new Promise((r) => server.close(r));
  }
  throw new Error('no port with a free predecessor in 50 tries');
}

/** A dev server of its own on a fresh port and database, killed after the tests; with a client on it. */
async function freshServer(name: string): Promise<{ address: string; client: Client; server: ReturnType<typeof devServer> }> {
  const address = `127.0.0.1:${await freePort()}`;
  const server = devServer(Number(address.split(':')[1]), join(dataDir, `${name}.db`));
  procs.push({ kill: () => server.kill() });
  return { address, client: await connect(address), server };
}

let smtp: SmtpFixture;
const procs: { kill: (s?: NodeJS.Signals) => Promise<void> }[] = [];
const config = writeConfig({ roster: { csmManager: { name: 'Ana Ruiz', email: 'ana@vendor.example' } } });
const dataDir = mkdtempSync(join(tmpdir(), 'escalation-faults-'));
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await smtp?.close();
});

function worker(address: string, taskQueue: string, extra: Record<string, string> = {}): Proc {
  const p = spawnProgram('worker/main.ts', {
    ...extra,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtp.url,
    ESCALATION_CONFIG: config,
    EMAIL_FROM: 'escalations@vendor.example',
    LINK_SECRET: 'fault-test-link-secret-0123456789',
    DATA_DIR: dataDir,
  });
  procs.push(p);
  return p;
}

const AGENT = 'agent-key-0123456789abcdef';
function api(address: string, taskQueue: string, port: number, extra: Record<string, string> = {}): Proc {
  const p = spawnProgram('api/main.ts', {
    ...extra,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: String(port),
    API_KEYS: `agent:agent:${AGENT}`,
    ESCALATION_CONFIG: config,
    LINK_SECRET: 'fault-test-link-secret-0123456789',
    DATA_DIR: dataDir,
  });
  procs.push(p);
  return p;
}

maybe('the Temporal server and the service’s processes fail', () => {
  test('worker and API started before Temporal wait for it with backoff, then serve; Ctrl-C while waiting stops them at once', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const taskQueue = uniqueId('early');
    const apiPort = await freePort();
    const w = worker(address, taskQueue);
    const a = api(address, taskQueue, apiPort);
    // Nothing listens yet: both keep trying, with growing waits, and neither exits.
    await Promise.all([w.waitFor(/not reachable yet.*retrying in 2\.0 s/, 30_000), a.waitFor(/not reachable yet.*retrying in 2\.0 s/, 30_000)]);
    expect([w.proc.exitCode, a.proc.exitCode]).toEqual([null, null]);
    const server = devServer(port, join(dataDir, 'early.db'));
    procs.push({ kill: () => server.kill() });
    await Promise.all([w.waitFor(/worker running/, 90_000), a.waitFor(/API on http/, 90_000)]);
    const r = await waitUntil(
      () => fetch(`http://127.0.0.1:${apiPort}/escalations`, { method: 'POST', headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' }, body: JSON.stringify(openBody()) }),
      (x) => x.status === 201,
      'an open through the API',
    );
    const opened = (await r.json()) as { workflowId: string };
    const client = await connect(address);
    await waitUntil(() => client.workflow.getHandle(opened.workflowId).query(getCaseQuery), (c) => c.messages.length > 0 && c.messages.every((m) => m.status !== 'pending'), 'the worker ran the case');
    await Promise.all([w.kill('SIGTERM'), a.kill('SIGTERM')]);
    await server.kill();

    // Ctrl-C before Temporal ever answers: a quiet exit 0 within seconds.
    const never = `127.0.0.1:${await freePort()}`;
    const w2 = worker(never, taskQueue);
    const a2 = api(never, taskQueue, await freePort());
    await Promise.all([w2.waitFor(/not reachable yet/, 30_000), a2.waitFor(/not reachable yet/, 30_000)]);
    const began = Date.now();
    w2.proc.kill('SIGINT');
    a2.proc.kill('SIGINT');
    const codes = await Promise.all([w2, a2].map((p) => new Promise<number | null>((res) => (p.proc.exitCode !== null ? res(p.proc.exitCode) : p.proc.once('exit', (c) => res(c))))));
    expect(codes).toEqual([0, 0]);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(w2.output() + a2.output()).toMatch(/stopped before Temporal answered/);
  }, 240_000);

  test('the dev server killed and restarted on its database: the case, its timers and its actions survive', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const db = join(dataDir, 'temporal.db');
    let server = devServer(port, db);
    procs.push({ kill: () => server.kill() });
    let client = await connect(address);
    const taskQueue = uniqueId('restart');
    const w = worker(address, taskQueue);
    await w.waitFor(/worker running/);
    const caseId = uniqueId('restart');
    const input = caseInput({ severity: 'high' });
    const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '15s', warnBefore: '5s' };
    await client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
      taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [{ caseId, input, policy, rulesVersion: RULES_VERSION }],
      staticSummary: caseSummary(input),
    });
    const handle = () => client.workflow.getHandle(workflowIdFor(caseId));
    // Slack is off here: its posts are recorded as skipped; every email is sent.
    const delivered = (c: { messages: { channel: string; status: string }[] }) => c.messages.every((m) => m.status === (m.channel === 'email' ? 'sent' : 'skipped'));
    await waitUntil(() => handle().query(getCaseQuery), delivered, 'the case opened');

    await server.kill(); // SIGKILL: no shutdown, the database as it was
    server = devServer(port, db);
    client = await connect(address);
    // The acknowledge window (15 s) passes after the restart: its timer was kept in the database.
    const breached = await waitUntil(() => handle().query(getCaseQuery), (c) => c.breaches.some((b) => b.kind === 'acknowledge'), 'the acknowledge breach after the restart', 90_000);
    expect(breached.stage).toBe('acknowledge');
    await handle().executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString() }] });
    const c = await waitUntil(() => handle().query(getCaseQuery), (x) => x.messages.every((m) => m.status !== 'pending'), 'the acknowledgement sent');
    expect(c.stage).toBe('investigate');
    expect(c.messages.find((m) => m.kind === 'acknowledgement')?.status).toBe('sent');
    await w.kill();
    await server.kill();
  }, 240_000);

  test('two workers and two APIs, one of each killed during a burst: every case exists and every acknowledged case got exactly one acknowledgement', async () => {
    const { address, client, server } = await freshServer('burst');
    const taskQueue = uniqueId('burst');
    const workers = [worker(address, taskQueue), worker(address, taskQueue)];
    const ports = [await freePort(), await freePort()];
    const apis = [api(address, taskQueue, ports[0]), api(address, taskQueue, ports[1])];
    await Promise.all([...workers.map((w) => w.waitFor(/worker running/)), ...apis.map((a) => a.waitFor(/API on http/))]);

    /** A client that goes to the other API when one does not answer, as a load balancer would. */
    const alive = [true, true];
    async function call(i: number, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const n = (i + attempt) % 2;
        if (!alive[n]) continue;
        try {
          const res = await fetch(`http://127.0.0.1:${ports[n]}${path}`, {
            method,
            headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json', ...headers },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(30_000),
          });
          if (res.status >= 500) throw new Error(`status ${res.status}`);
          return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string } } };
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw new Error(`${method} ${path} never answered`);
    }

    const N = 24;
    const keys = Array.from({ length: N }, (_, i) => `burst-${taskQueue}-${i}`);
    const nextUpdateAt = new Date(Date.now() + 3_600_000).toISOString();
    const outcome: { id: string; ack: number }[] = [];
    const burst = Promise.all(
      keys.map(async (key, i) => {
        await new Promise((r) => setTimeout(r, i * 60));
        const opened = await call(i, 'POST', '/escalations', openBody({ customer: { ...openBody().customer, id: `cust-${i}` } }), { 'Idempotency-Key': key });
        expect([200, 201]).toContain(opened.status);
        const ack = await call(i + 1, 'POST', `/escalations/${opened.body.id}/acknowledge`, { nextUpdateAt });
        // 409: an earlier try of this same acknowledgement landed before its API died.
        expect([[200], [409, 'stage_conflict']]).toContainEqual(ack.status === 200 ? [200] : [ack.status, ack.body.error?.code]);
        outcome.push({ id: opened.body.id!, ack: ack.status });
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    alive[1] = false;
    await Promise.all([apis[1].kill('SIGKILL'), workers[0].kill('SIGKILL')]);
    await burst;

    expect(new Set(outcome.map((o) => o.id)).size).toBe(N);
    for (const { id } of outcome) {
      const c = await waitUntil(
        () => client.workflow.getHandle(workflowIdFor(id)).query(getCaseQuery),
        (x) => x.messages.every((m) => m.status === (m.channel === 'email' ? 'sent' : 'skipped')),
        `case ${id} delivered`,
        90_000,
      );
      expect(c.stage).toBe('investigate');
      expect(c.timeline.filter((e) => e.type === 'acknowledged')).toHaveLength(1);
      const acks = smtp.received.filter((r) => String(r.mail.messageId).includes(id) && /We're on it/.test(r.mail.subject ?? ''));
      expect(new Set(acks.map((r) => r.mail.messageId)).size).toBe(1);
    }
    // One case per key, whichever API took it.
    const listed = await client.workflow.list({ query: `TaskQueue = '${taskQueue}'` });
    let count = 0;
    for await (const _ of listed) count++;
    expect(count).toBe(N);
    await Promise.all([...workers, ...apis].map((p) => p.kill()));
    await server.kill();
  }, 300_000);
});

maybe('running it: setup, metrics', () => {
  test('npm run setup:temporal registers the search attributes on a server that has none, and a second run changes nothing', async () => {
    const { address, client, server } = await freshServer('setup');
    const run = () => runToExit('scripts/setup-temporal.ts', { TEMPORAL_ADDRESS: address, LOG_LEVEL: 'info' });
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`registered ${ALL_SEARCH_ATTRIBUTES.length} search attributes`));
    const { keys } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' }).then((r) => ({ keys: Object.keys(r.customAttributes ?? {}) }));
    expect(keys).toEqual(expect.arrayContaining(['EscalationStage', 'EscalationNextDeadline', 'EscalationCsat']));
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/already registered/);
    await server.kill();
  }, 120_000);

  test('Prometheus scrapes: the API counts requests and opens and reads open cases by stage; the worker counts messages and carries the SDK metrics', async () => {
    const { address, server } = await freshServer('metrics');
    const taskQueue = uniqueId('metrics');
    // The SDK's metrics port (unset: METRICS_PORT + 1) taken: the worker stops at once and names it.
    const squatter = await squatOnPortAfterAFreeOne();
    try {
      const refused = await runToExit('worker/main.ts', { TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dataDir, METRICS_PORT: String(squatter.port - 1) });
      expect(refused.code).toBe(1);
      expect(refused.out).toContain(`WORKER_SDK_METRICS_PORT=${squatter.port} cannot be used: another process listens on 127.0.0.1`);
    } finally {
      await new Promise((r) => squatter.server.close(r));
    }
    const [apiPort, metricsPort, sdkMetricsPort] = [await freePort(), await freePort(), await freePort()];
    const w = worker(address, taskQueue, { METRICS_PORT: String(metricsPort), WORKER_SDK_METRICS_PORT: String(sdkMetricsPort) });
    const a = api(address, taskQueue, apiPort);
    await Promise.all([w.waitFor(/worker running/), a.waitFor(/API on http/)]);
    const r = await fetch(`http://127.0.0.1:${apiPort}/escalations`, { method: 'POST', headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' }, body: JSON.stringify(openBody({ severity: 'high' })) });
    expect(r.status).toBe(201);
    const { id: openedId } = (await r.json()) as { id: string };
    await fetch(`http://127.0.0.1:${apiPort}/escalations/nope`, { headers: { authorization: `Bearer ${AGENT}` } });
    const scrape = async (url: string) => {
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      return res.text();
    };
    const apiText = await waitUntil(() => scrape(`http://127.0.0.1:${apiPort}/metrics`), (t) => /escalation_open_cases\{stage="acknowledge",team="default"\} 1\b/.test(t), 'the open case counted by stage');
    expect(apiText).toMatch(/escalation_http_requests_total\{method="POST",route="\/escalations",status="201"\} 1\b/);
    expect(apiText).toMatch(/escalation_http_requests_total\{method="GET",route="\/escalations\/:id",status="404"\} 1\b/);
    expect(apiText).toMatch(/escalation_cases_opened_total\{severity="high",segment="enterprise",team="default"\} 1\b/);
    expect(apiText).toMatch(/escalation_open_breached_cases\{kind="acknowledge",team="default"\} 0\b/);
    expect(apiText).toMatch(/escalation_http_request_duration_seconds_bucket/);
    expect(apiText).not.toContain(openedId); // no case ids in labels
    const workerText = await waitUntil(() => scrape(`http://127.0.0.1:${metricsPort}/metrics`), (t) => /escalation_messages_total\{channel="email",kind="case_opened",status="sent",team="default"\} 1\b/.test(t), 'the opening email counted');
    expect(workerText).toMatch(/escalation_messages_total\{channel="slack",kind="case_opened",status="skipped",team="default"\} 1\b/);
    expect(workerText).toMatch(/^temporal_[a-z_]+/m); // the SDK's own metrics, merged in
    expect(workerText).toMatch(/escalation_process_resident_memory_bytes/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
    // The image's HEALTHCHECK script: healthy against the worker's port and the API's, not against a dead one.
    const check = (env: Record<string, string>) => spawnSync(process.execPath, ['scripts/healthcheck.mjs'], { cwd: join(__dirname, '..', '..'), env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 }).status;
    expect(check({ HEALTHCHECK_PORT: String(metricsPort) })).toBe(0);
    expect(check({ PORT: String(apiPort) })).toBe(0);
    expect(check({ HEALTHCHECK_PORT: String(await freePort()) })).toBe(1);
    // Every metric the Grafana dashboard charts is one these endpoints serve.
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'deploy', 'grafana', 'escalations.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const charted = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(escalation|temporal)_[a-z_]+/g) ?? [])));
    expect(charted.size).toBeGreaterThan(6);
    for (const name of charted) expect([name, new RegExp(`^${name}[{ ]`, 'm').test(apiText + workerText)]).toEqual([name, true]);
    await Promise.all([w.kill('SIGTERM'), a.kill('SIGTERM')]);
    await server.kill();
  }, 180_000);

  test('npm run replay: the namespace’s cases replay against the working tree, and a case run by other code is named and fails the run', async () => {
    const { address, client, server } = await freshServer('replay');
    const taskQueue = uniqueId('replay');
    const w = worker(address, taskQueue);
    await w.waitFor(/worker running/);
    const start = (queue: string) => {
      const caseId = uniqueId('replay');
      const input = caseInput({ severity: 'high' });
      return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, { taskQueue: queue, workflowId: workflowIdFor(caseId), args: [{ caseId, input, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }], staticSummary: caseSummary(input) });
    };
    const [one, two] = [await start(taskQueue), await start(taskQueue)];
    await two.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString() }] });
    await waitUntil(() => one.query(getCaseQuery), (c) => c.messages.length > 0 && c.messages.every((m) => m.status !== 'pending'), 'the first case ran');
    const replay = () => runToExit('scripts/replay.ts', { TEMPORAL_ADDRESS: address, LOG_LEVEL: 'info' });
    const good = await replay();
    expect([good.code, good.out]).toEqual([0, expect.stringMatching(/2 cases replay against this code/)]);

    // A case run by code that drifted from today's: the replay names it and fails.
    const drifted = await Worker.create({ connection: await NativeConnection.connect({ address }), taskQueue: `${taskQueue}-drifted`, workflowsPath: require.resolve('../helpers/drifted-workflows') });
    const other = await drifted.runUntil(async () => {
      const h = await start(`${taskQueue}-drifted`);
      await waitUntil(() => h.fetchHistory(), (hist) => (hist.events ?? []).some((e) => e.timerStartedEventAttributes), 'the drifted code ran');
      return h;
    });
    const bad = await replay();
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`does not replay: ${other.workflowId}`);
    expect(bad.out).toMatch(/1 of 3 cases would not replay/);
    await w.kill('SIGTERM');
    await server.kill();
  }, 240_000);
});
