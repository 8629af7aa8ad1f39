/**
 * `npm run bench`: the API against the raw Temporal SDK on one dev server, in one run — open (API
 * POST /escalations vs `workflow.start`) and get (API GET /escalations/{id} vs a raw query): p50, p99,
 * throughput and their ratios. A script that prints figures, never a test.
 *   BENCH_N (default 300) requests per measure, BENCH_CONCURRENCY (default 8).
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../activities';
import { OutboxMailer } from '../activities/email';
import { Renderer } from '../activities/render';
import { createApp } from '../api/app';
import { parseApiKeys } from '../api/auth';
import { EscalationService } from '../api/service';
import { DEFAULT_ROSTER } from '../config/settings';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../playbook';
import { ESCALATION_WORKFLOW, getCaseQuery, type EscalationInput } from '../workflows/messages';
import { devServerEnv } from '../test/helpers/temporal';
import { openBody } from '../test/helpers/system';

const N = Number(process.env.BENCH_N ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const KEY = 'bench-agent-key-0123456789';

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

async function measure(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
  const times: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await op(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - began) / 1000;
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
  return { p50: at(50), p99: at(99), perSecond: n / elapsed };
}

const fmt = (f: Figures) => `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, ${f.perSecond.toFixed(1)}/s`;

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await devServerEnv();
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const activities = createActivities({
    mailer: new OutboxMailer(mkdtempSync(join(tmpdir(), 'bench-outbox-'))),
    roster: DEFAULT_ROSTER,
    renderer: new Renderer(),
    emailFrom: 'escalations@localhost',
    publicBaseUrl: 'http://localhost:3000',
    linkSecret: 'bench-link-secret-0123456789',
  });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('../workflows'), activities });
  const running = worker.run();
  const client = new Client({ connection: env.connection });
  const service = new EscalationService(client, taskQueue, () => DEFAULT_POLICY);
  const app = createApp({ service, keys: parseApiKeys(`bench:agent:${KEY}`), linkSecret: 'bench-link-secret-0123456789', logger: pino({ level: 'silent' }) });
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const body = openBody();
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

  // Warm both paths (connections, the workflow bundle, the server's caches).
  await measure(30, CONCURRENCY, () => fetch(`${base}/escalations`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.text()));
  const rawStart = (i: number) => {
    const caseId = `bench-raw-${i}-${randomBytes(4).toString('hex')}`;
    return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
      taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [{ caseId, input: body, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
      staticSummary: caseSummary(body),
    });
  };
  await measure(30, CONCURRENCY, rawStart);

  const ids: string[] = [];
  const apiOpen = await measure(N, CONCURRENCY, async () => {
    const r = await fetch(`${base}/escalations`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`open answered ${r.status}: ${await r.text()}`);
    ids.push(((await r.json()) as { id: string }).id);
  });
  const rawOpen = await measure(N, CONCURRENCY, rawStart);
  // Let the worker catch up with the opens before measuring reads.
  await new Promise((r) => setTimeout(r, 3_000));
  const rawGet = await measure(N, CONCURRENCY, (i) => client.workflow.getHandle(workflowIdFor(ids[i % ids.length])).query(getCaseQuery));
  const apiGet = await measure(N, CONCURRENCY, async (i) => {
    const r = await fetch(`${base}/escalations/${ids[i % ids.length]}`, { headers });
    if (r.status !== 200) throw new Error(`get answered ${r.status}`);
    await r.text();
  });

  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(`bench: N=${N}, concurrency ${CONCURRENCY}, one dev server, worker and API in one process on ${process.arch}`);
  console.log(`open  API ${fmt(apiOpen)} | raw workflow.start ${fmt(rawOpen)} | p50 ${ratio(apiOpen.p50, rawOpen.p50)}×, throughput ${ratio(apiOpen.perSecond, rawOpen.perSecond)}×`);
  console.log(`get   API ${fmt(apiGet)} | raw query ${fmt(rawGet)} | p50 ${ratio(apiGet.p50, rawGet.p50)}×, throughput ${ratio(apiGet.perSecond, rawGet.perSecond)}×`);

  await new Promise<void>((r) => server.close(() => r()));
  worker.shutdown();
  await running;
  await env.teardown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
