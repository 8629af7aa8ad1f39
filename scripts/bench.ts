/**
 * `npm run bench`: the product against the raw Temporal SDK on one dev server, in one run. The worker
 * and the API run as their own processes (`npm run worker`, `npm run api`), as users deploy them; this
 * process drives both sides: open (API POST /escalations vs `workflow.start` of the same workflow and
 * input) and get (API GET /escalations/{id} vs a raw query). Measures alternate in rounds, so a slow
 * moment of a shared machine lands on both sides alike. Prints p50, p99, throughput and their ratios; a
 * script that prints figures, never a test.
 *   BENCH_N (default 800) requests per side, BENCH_CONCURRENCY (default 8), BENCH_ROUNDS (default 10). Reads come first, on
 *   settled cases; the opens after.
 *   BENCH_PROFILE=<dir> writes the API process's CPU profile there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { EscalationService } from '../api/service';
import { openSchema } from '../api/schemas';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../playbook';
import { ESCALATION_WORKFLOW, getCaseQuery, type EscalationInput } from '../workflows/messages';
import { devServerEnv } from '../test/helpers/temporal';
import { spawnProgram, waitUntil } from '../test/helpers/processes';
import { openBody } from '../test/helpers/system';

const N = Number(process.env.BENCH_N ?? 800);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const KEY = 'bench-agent-key-0123456789';
/** Cases opened first and read by the get measure. */
const GET_CASES = 50;

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

/** Runs the sides in rounds of n/rounds each, the order rotating every round, and pools each side's timings. */
async function alternate(n: number, ...sides: ((i: number) => Promise<unknown>)[]): Promise<Figures[]> {
  const per = Math.ceil(n / ROUNDS);
  const runs: Figures[][] = sides.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const side = (r + k) % sides.length;
      runs[side].push(await measure(per, CONCURRENCY, (i) => sides[side](r * per + i)));
    }
  }
  return runs.map((fs) => ({
    p50: median(fs.map((f) => f.p50)),
    p99: Math.max(...fs.map((f) => f.p99)),
    perSecond: (per * fs.length) / fs.reduce((t, f) => t + per / f.perSecond, 0),
  }));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** CPU milliseconds a process has used (user + system), from /proc. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** The load generator's HTTP client: node:http with keep-alive, lighter than fetch on the shared cores. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function call(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await devServerEnv();
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const common = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LINK_SECRET: 'bench-link-secret-0123456789',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-data-')),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const worker = spawnProgram('worker/main.ts', common);
  const api = spawnProgram('api/main.ts', { ...common, PORT: String(port), API_KEYS: `bench:agent:${KEY}` }, process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
  // The same API on a task queue no worker polls: the open path alone, without the worker's processing
  // of each new case competing for the same two cores.
  const idleQueue = `${taskQueue}-idle`;
  const idlePort = await freePort();
  const idleApi = spawnProgram('api/main.ts', { ...common, TEMPORAL_TASK_QUEUE: idleQueue, PORT: String(idlePort), API_KEYS: `bench:agent:${KEY}` });
  try {
    await Promise.all([worker.waitFor(/worker running/), api.waitFor(/API on http/), idleApi.waitFor(/API on http/)]);
    const client = new Client({ connection: env.connection });
    const base = `http://127.0.0.1:${port}`;
    const body = openBody();
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

    const ids: string[] = [];
    const opener = (url: string) => async () => {
      const r = await call('POST', `${url}/escalations`, headers, JSON.stringify(body));
      if (r.status !== 201) throw new Error(`open answered ${r.status}: ${r.text}`);
      ids.push((JSON.parse(r.text) as { id: string }).id);
    };
    const starter = (queue: string) => () => {
      const caseId = `bench-raw-${randomBytes(6).toString('hex')}`;
      return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
        taskQueue: queue,
        workflowId: workflowIdFor(caseId),
        args: [{ caseId, input: body, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
        staticSummary: caseSummary(body),
      });
    };
    const apiOpen = opener(base);
    const rawOpen = starter(taskQueue);
    // The product's open without its HTTP edge (EscalationService in this process): edge or start.
    const serviceOn = (queue: string) => {
      const service = new EscalationService(client, queue, () => DEFAULT_POLICY);
      return () => service.open(openSchema.parse(body));
    };
    // Warm both paths (connections, the workflow bundle, the server's caches). These cases are the
    // ones read below, once the worker has delivered their opening messages: reads on a quiet system.
    await measure(GET_CASES, CONCURRENCY, apiOpen);
    await measure(40, CONCURRENCY, rawOpen);
    await measure(40, CONCURRENCY, opener(`http://127.0.0.1:${idlePort}`)); // the second API warms too
    const readIds = ids.splice(0, GET_CASES);
    ids.length = 0;
    await waitUntil(
      () => Promise.all(readIds.map((id) => client.workflow.getHandle(workflowIdFor(id)).query(getCaseQuery))),
      (views) => views.every((v) => v.messages.length > 0 && v.messages.every((m) => m.status !== 'pending')),
      'the opening messages of the cases read to be delivered',
      120_000,
    );
    const apiGet = async (i: number) => {
      const r = await call('GET', `${base}/escalations/${readIds[i % readIds.length]}`, headers);
      if (r.status !== 200) throw new Error(`get answered ${r.status}`);
      JSON.parse(r.text);
    };
    const rawGet = (i: number) => client.workflow.getHandle(workflowIdFor(readIds[i % readIds.length])).query(getCaseQuery);
    // First on a quiet system: the open path alone, then reads, then opens with the worker busy on each.
    const idleCpu = cpuMs(idleApi.proc.pid);
    const [idleApiOpened, idleRawOpened, idleServiceOpened] = await alternate(N, opener(`http://127.0.0.1:${idlePort}`), starter(idleQueue), serviceOn(idleQueue));
    const idleCpuPerOpen = (cpuMs(idleApi.proc.pid) - idleCpu) / (Math.ceil(N / ROUNDS) * ROUNDS);
    const getCpu = cpuMs(api.proc.pid);
    const [apiGot, rawGot] = await alternate(N, apiGet, rawGet);
    const getCpuPerGet = (cpuMs(api.proc.pid) - getCpu) / (Math.ceil(N / ROUNDS) * ROUNDS);

    const [apiOpened, rawOpened, serviceOpened] = await alternate(N, apiOpen, rawOpen, serviceOn(taskQueue));

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(`bench: N=${N} per side, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds; one dev server, worker and API each their own process (LOG_LEVEL=${common.LOG_LEVEL}), ${process.arch}`);
    console.log(`open, worker running: API ${fmt(apiOpened)} | raw workflow.start ${fmt(rawOpened)} | p50 ${ratio(apiOpened.p50, rawOpened.p50)}×, throughput ${ratio(apiOpened.perSecond, rawOpened.perSecond)}×`);
    console.log(`      the same open without HTTP (EscalationService in this process) ${fmt(serviceOpened)}`);
    console.log(`open, the path alone (a task queue no worker polls): API ${fmt(idleApiOpened)} | raw workflow.start ${fmt(idleRawOpened)} | p50 ${ratio(idleApiOpened.p50, idleRawOpened.p50)}×, throughput ${ratio(idleApiOpened.perSecond, idleRawOpened.perSecond)}×`);
    console.log(`      the same open without HTTP ${fmt(idleServiceOpened)}; the API process spent ${idleCpuPerOpen.toFixed(2)} ms of CPU per open`);
    console.log(`get, settled cases: API ${fmt(apiGot)} | raw query ${fmt(rawGot)} | p50 ${ratio(apiGot.p50, rawGot.p50)}×, throughput ${ratio(apiGot.perSecond, rawGot.perSecond)}×; the API process spent ${getCpuPerGet.toFixed(2)} ms of CPU per get`);
  } finally {
    agent.destroy();
    await Promise.all([api.kill('SIGTERM'), idleApi.kill('SIGTERM'), worker.kill('SIGTERM')]);
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
