/**
 * `npm run bench`: the product against the raw Temporal SDK on one dev server, in one run; a script that
 * prints figures and ratios, never a test. The worker and the API run as their own processes (`npm run
 * worker`, `npm run api`), as users deploy them; this process drives them and the raw SDK side.
 *
 * Parts (BENCH_PARTS, comma-separated; all by default):
 *   requests   open (API POST /escalations vs `workflow.start` of the same workflow and input, and vs
 *              `workflow.start` of the product's whole start request: memo, search attributes, summary),
 *              acknowledge (API vs a raw `executeUpdate`) and get (API vs a raw query; the first read of
 *              each case, and cases read again, which the API answers from the view it read before while
 *              the workflow's history has not grown): p50, p99, throughput and ratios, the sides
 *              alternating in rounds so a slow moment lands on both.
 *              A third side is the floor under the API's figures: the same service behind node:http alone,
 *              in a process of its own (scripts/bench-bare-api.ts: no Express, helmet, auth, log or
 *              metrics), for the open, the first read and the acknowledge.
 *              BENCH_N (800) requests per side (BENCH_ACK_N, 300, for acknowledge: each needs a case of
 *              its own), BENCH_CONCURRENCY (8), BENCH_ROUNDS (10).
 *   edge       what the HTTP edge adds in CPU: the API's CPU per get (BENCH_N × 4) and per open (BENCH_N, on
 *              the queue no worker polls) with the load from a process of its own, against the CPU the raw
 *              SDK spends in this process on the same call (a describe: the API reads these cases again)
 *              and the same start request; and the CPU the bare node:http process spends on the same.
 *              Last, the Express app alone: the API's app in this process around a service that answers
 *              at once (no Temporal), against node:http answering the same view.
 *   sustained  opens through the API for BENCH_SUSTAIN_S seconds (20) with the worker processing each
 *              new case, against the same against a task queue no worker polls.
 *   burst      BENCH_BURST_N cases (1000) whose acknowledge deadlines fall evenly over
 *              BENCH_BURST_WINDOW_S seconds (10), the first n/25 seconds (at least 30) after the first
 *              open: lateness of each breach (p50/p99/max), time to drain, and queries of a case during
 *              the burst (failures, slowest), and the processes' peak RSS.
 *   held       BENCH_HELD_N open cases (1000) with deadlines at BENCH_HELD_RATE per second (5.5):
 *              lateness, and the worker's, the API's and the server's peak RSS.
 *   case       events, bytes and replay time of saved cases (the same plays as rules 4 ran them and as today's rules do).
 *   heap       the workflow thread's heap per cached case: BENCH_HEAP_N cases (200) held by a worker in this
 *              process (debug mode runs the workflows on this thread, so its heap is theirs), with
 *              the shared modules preloaded as every worker runs them, against the same without.
 *   idle       a worker's resident memory at rest, started as `npm run worker` starts it (its workflow code
 *              bundled in a child process, worker/bundle.ts), against the same worker bundling in its own
 *              process, as every worker did before (scripts/bench-idle-worker.ts, each on a queue of its own).
 * BENCH_STORE: `tuned` (default: a database file with the pragmas `npm start` uses), `file` (a file,
 * SQLite's defaults), `memory` (the dev server's in-memory database).
 * BENCH_PROFILE=<dir> writes the worker's and the API's CPU profiles there (one file per thread).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { EscalationService, prepareStart } from '../api/service';
import { openSchema } from '../api/schemas';
import { createApp } from '../api/app';
import { parseApiKeys } from '../api/auth';
import { createMetrics } from '../config/metrics';
import { freePort } from '../config/ports';
import { DEV_SERVER_SQLITE_PRAGMAS, devServerExecutable } from '../config/temporal-binaries';
import { DEFAULT_LIMITS, DEFAULT_POLICY, RULES_VERSION, caseSummary, caseView, workflowIdFor, type CaseView, type Policy } from '../playbook';
import { ACTION_UPDATES, ESCALATION_WORKFLOW, SA, getCaseQuery, type EscalationInput } from '../workflows/messages';
import { spawnProgram, waitUntil } from '../test/helpers/processes';
import { openBody } from '../test/helpers/system';
import { WORKFLOW_SOURCE } from '../worker/workflow-source';
import { activitiesFromConfig } from '../worker/worker';
import { loadEscalationConfig, parseEnv } from '../config/settings';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const N = num('BENCH_N', 800);
const ACK_N = num('BENCH_ACK_N', 300);
const CONCURRENCY = num('BENCH_CONCURRENCY', 8);
const ROUNDS = num('BENCH_ROUNDS', 10);
const SUSTAIN_S = num('BENCH_SUSTAIN_S', 20);
const BURST_N = num('BENCH_BURST_N', 1000);
const BURST_WINDOW_S = num('BENCH_BURST_WINDOW_S', 10);
const HELD_N = num('BENCH_HELD_N', 1000);
const HELD_RATE = num('BENCH_HELD_RATE', 5.5);
const HEAP_N = num('BENCH_HEAP_N', 200);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'requests,edge,sustained,burst,held,case,heap,idle').split(','));
const STORE = (process.env.BENCH_STORE ?? 'tuned') as 'tuned' | 'file' | 'memory';
const KEY = 'bench-agent-key-0123456789';
/** Cases opened first and read by the get measure. */
const GET_CASES = 50;

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

const at = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

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
  return { p50: at(times, 50), p99: at(times, 99), perSecond: n / elapsed };
}

const fmt = (f: Figures) => `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, ${f.perSecond.toFixed(1)}/s`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);

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

/** Resident memory of a process in MiB, from /proc. */
function rssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The dev server's process: the one whose command line names its port. */
function serverPid(port: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('start-dev') && cmd[cmd.indexOf('--port') + 1] === port) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Samples the peak RSS of each process every second until stopped. */
function rssPeaks(pids: Record<string, number | undefined>) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  // Each process's CPU, sampled with its memory: what a stretch of the run cost each.
  const samples: { at: number; cpu: Record<string, number> }[] = [];
  const sample = () => {
    for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k], rssMiB(pid) || 0);
    samples.push({ at: Date.now(), cpu: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)])) });
  };
  const timer = setInterval(sample, 1000);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Object.entries(peak)
        .map(([k, v]) => `${k} ${v.toFixed(0)} MiB`)
        .join(', ');
    },
    /** Each process's CPU seconds between two moments (the samples within them), and the seconds between. */
    cpuBetween(from: number, to: number) {
      const within = samples.filter((x) => x.at >= from && x.at <= to);
      const [a, b] = [within[0], within.at(-1)];
      if (!a || !b || a === b) return 'too short to sample';
      const seconds = (b.at - a.at) / 1000;
      return `${Object.keys(pids)
        .map((k) => `${k} ${((b.cpu[k] - a.cpu[k]) / 1000).toFixed(1)} s`)
        .join(', ')} over ${seconds.toFixed(0)} s`;
    },
  };
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


/** One dev server, as `npm start` runs it (a database file, tuned) unless BENCH_STORE says otherwise. */
async function devServer(dir: string): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      searchAttributes: Object.values(SA),
      log: { format: 'pretty', level: 'error' },
      ...(STORE === 'memory' ? {} : { dbFilename: join(dir, 'temporal.db') }),
      ...(STORE === 'tuned' ? { extraArgs: DEV_SERVER_SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]) } : {}),
    },
  });
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const env = await devServer(dir);
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const common = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LINK_SECRET: 'bench-link-secret-0123456789',
    DATA_DIR: dir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const worker = spawnProgram('worker/main.ts', common, profile);
  const api = spawnProgram('api/main.ts', { ...common, PORT: String(port), API_KEYS: `bench:agent:${KEY}` }, profile);
  // The same API on a task queue no worker polls: the open path alone, without the worker's processing
  // of each new case competing for the same two cores.
  const idleQueue = `${taskQueue}-idle`;
  const idlePort = await freePort();
  const idleApi = spawnProgram('api/main.ts', { ...common, TEMPORAL_TASK_QUEUE: idleQueue, PORT: String(idlePort), API_KEYS: `bench:agent:${KEY}` });
  // The floor under the API's figures: node:http alone around the same service, on each queue
  // (scripts/bench-bare-api.ts), for the parts that time the open and the get.
  const bare = PARTS.has('requests') || PARTS.has('edge');
  const [barePort, bareIdlePort] = bare ? [await freePort(), await freePort()] : [0, 0];
  const bares = bare ? [spawnProgram('scripts/bench-bare-api.ts', { ...common, PORT: String(barePort) }), spawnProgram('scripts/bench-bare-api.ts', { ...common, TEMPORAL_TASK_QUEUE: idleQueue, PORT: String(bareIdlePort) })] : [];
  const pids = { worker: worker.proc.pid, api: api.proc.pid, server: serverPid(env.address.split(':').at(-1)!) };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await Promise.all([worker.waitFor(/worker running/), api.waitFor(/API on http/), idleApi.waitFor(/API on http/), ...bares.map((b) => b.waitFor(/bare API on/))]);
    const client = new Client({ connection: env.connection });
    const base = `http://127.0.0.1:${port}`;
    const body = openBody();
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    out(`bench: one dev server (${STORE === 'memory' ? 'in memory' : `database file${STORE === 'tuned' ? `, ${DEV_SERVER_SQLITE_PRAGMAS.join(' ')}` : ', SQLite defaults'}`}), the worker and the API each their own process (LOG_LEVEL=${common.LOG_LEVEL}); ${process.arch}, node ${process.version}`);

    const ids: string[] = [];
    const opener = (url: string) => async () => {
      const r = await call('POST', `${url}/escalations`, headers, JSON.stringify(body));
      if (r.status !== 201) throw new Error(`open answered ${r.status}: ${r.text}`);
      ids.push((JSON.parse(r.text) as { id: string }).id);
    };
    const start = (queue: string, o: { caseId?: string; policy?: Policy; openedAt?: string } = {}) => {
      const caseId = o.caseId ?? `bench-raw-${randomBytes(6).toString('hex')}`;
      return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
        taskQueue: queue,
        workflowId: workflowIdFor(caseId),
        args: [{ caseId, input: body, policy: o.policy ?? DEFAULT_POLICY, rulesVersion: RULES_VERSION, ...(o.openedAt ? { openedAt: o.openedAt } : {}) }],
        staticSummary: caseSummary(body),
      });
    };
    const starter = (queue: string) => () => start(queue);
    /**
     * The raw SDK sending the product's very start request (memo, search attributes, summary and details,
     * built as the API builds them, before the clock starts): what Temporal charges for what a case
     * carries at open, apart from what the API adds.
     */
    const sameRequestStarter = (queue: string, n = N + 50) => {
      const parsed = openSchema.parse(body);
      const ready = Array.from({ length: n }, () => prepareStart(queue, parsed, { caseId: `bench-same-${randomBytes(6).toString('hex')}`, policy: DEFAULT_POLICY, limits: { ...DEFAULT_LIMITS } }).options);
      let next = 0;
      return () => client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, ready[next++]);
    };
    /**
     * Reads each case's view until `pick` finds what is awaited in it: the rest polled each second, 50
     * at a time (a burst of queries of our own would load the system being measured).
     */
    const eachCase = async <T>(caseIds: string[], pick: (v: CaseView) => T | undefined, what: string, timeoutMs = 600_000): Promise<T[]> => {
      const found = new Map<string, T>();
      const end = Date.now() + timeoutMs;
      for (;;) {
        const rest = caseIds.filter((id) => !found.has(id));
        for (let i = 0; i < rest.length; i += 50) {
          const views = await Promise.all(rest.slice(i, i + 50).map((id) => client.workflow.getHandle(workflowIdFor(id)).query(getCaseQuery).catch(() => undefined)));
          views.forEach((v, k) => {
            const got = v && pick(v);
            if (got !== undefined) found.set(rest[i + k], got);
          });
        }
        if (found.size === caseIds.length) return caseIds.map((id) => found.get(id)!);
        if (Date.now() > end) throw new Error(`${caseIds.length - found.size} of ${caseIds.length} cases: no ${what} after ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    /** Until the worker has taken every case's opening step (its opening messages delivered). */
    const settled = (caseIds: string[]) => eachCase(caseIds, (v) => (v.messages.length > 0 && v.messages.every((m) => m.status !== 'pending') ? true : undefined), 'opening messages delivered');

    if (PARTS.has('requests')) {
      const apiOpen = opener(base);
      const rawOpen = starter(taskQueue);
      // The product's open without its HTTP edge (EscalationService in this process): edge or start.
      const serviceOn = (queue: string) => {
        const service = new EscalationService({ client, taskQueue: queue, policy: () => DEFAULT_POLICY });
        return () => service.open(openSchema.parse(body));
      };
      // Warm both paths (connections, the workflow bundle, the server's caches). These cases are the
      // ones read below, once the worker has delivered their opening messages: reads on a quiet system.
      await measure(GET_CASES, CONCURRENCY, apiOpen);
      await measure(40, CONCURRENCY, rawOpen);
      await measure(40, CONCURRENCY, opener(`http://127.0.0.1:${idlePort}`)); // the second API warms too
      const readIds = ids.splice(0, GET_CASES);
      ids.length = 0;
      await settled(readIds);
      const apiGet = async (i: number) => {
        const r = await call('GET', `${base}/escalations/${readIds[i % readIds.length]}`, headers);
        if (r.status !== 200) throw new Error(`get answered ${r.status}`);
        JSON.parse(r.text);
      };
      const rawGet = (i: number) => client.workflow.getHandle(workflowIdFor(readIds[i % readIds.length])).query(getCaseQuery);
      // First on a quiet system: the open path alone, then reads, then opens with the worker busy on each.
      const idleCpu = cpuMs(idleApi.proc.pid);
      // The bare servers take the same requests (they read no key) and are warmed as the APIs are.
      await measure(40, CONCURRENCY, opener(`http://127.0.0.1:${bareIdlePort}`));
      await measure(40, CONCURRENCY, opener(`http://127.0.0.1:${barePort}`));
      const [idleApiOpened, idleRawOpened, idleServiceOpened, idleSameOpened, idleBareOpened] = await alternate(N, opener(`http://127.0.0.1:${idlePort}`), starter(idleQueue), serviceOn(idleQueue), sameRequestStarter(idleQueue), opener(`http://127.0.0.1:${bareIdlePort}`));
      const idleCpuPerOpen = (cpuMs(idleApi.proc.pid) - idleCpu) / (Math.ceil(N / ROUNDS) * ROUNDS);
      // Reads warmed alike on both sides (the API's read path is compiled at its first requests).
      await measure(200, CONCURRENCY, apiGet);
      await measure(200, CONCURRENCY, rawGet);
      const getCpu = cpuMs(api.proc.pid);
      const [apiGot, rawGot] = await alternate(N, apiGet, rawGet);
      const getCpuPerGet = (cpuMs(api.proc.pid) - getCpu) / (Math.ceil(N / ROUNDS) * ROUNDS);
      const [apiOpened, rawOpened, serviceOpened, sameOpened, bareOpened] = await alternate(N, apiOpen, rawOpen, serviceOn(taskQueue), sameRequestStarter(taskQueue), opener(`http://127.0.0.1:${barePort}`));

      // Acknowledge: each case once, API and raw on cases alike, opened and settled first.
      const per = Math.ceil(ACK_N / ROUNDS) * ROUNDS;
      const ackIds = Array.from({ length: 3 * per }, () => `bench-ack-${randomBytes(6).toString('hex')}`);
      await measure(ackIds.length, CONCURRENCY, (i) => start(taskQueue, { caseId: ackIds[i] }));
      await settled(ackIds);
      // The first read of each case (none read through the API before): the query alone, as the raw side.
      // The sides take turns along the cases (every third), so each meets as many cases the worker still
      // holds in its cache (the later opened) as the others.
      const firstGet = (url: string, side: number) => async (i: number) => {
        const r = await call('GET', `${url}/escalations/${ackIds[3 * i + side]}`, headers);
        if (r.status !== 200) throw new Error(`get answered ${r.status}`);
        JSON.parse(r.text);
      };
      const firstRawGet = (i: number) => client.workflow.getHandle(workflowIdFor(ackIds[3 * i + 1])).query(getCaseQuery);
      const [apiFirstGot, rawFirstGot, bareFirstGot] = await alternate(per, firstGet(base, 0), firstRawGet, firstGet(`http://127.0.0.1:${barePort}`, 2));
      const ackArgs = { note: 'Engineers are reproducing it.', nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString() };
      // The same turns again: each side meets as many cases still in the worker's cache as the others.
      const ack = (url: string, side: number) => async (i: number) => {
        const r = await call('POST', `${url}/escalations/${ackIds[3 * i + side]}/acknowledge`, headers, JSON.stringify(ackArgs));
        if (r.status !== 200) throw new Error(`acknowledge answered ${r.status}: ${r.text}`);
      };
      const rawAck = (i: number) => client.workflow.getHandle(workflowIdFor(ackIds[3 * i + 1])).executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ ...ackArgs, by: 'bench' }] });
      const [apiAcked, rawAcked, bareAcked] = await alternate(ACK_N, ack(base, 0), rawAck, ack(`http://127.0.0.1:${barePort}`, 2));

      out(`open, worker running: API ${fmt(apiOpened)} | raw workflow.start ${fmt(rawOpened)} | p50 ${ratio(apiOpened.p50, rawOpened.p50)}×, throughput ${ratio(apiOpened.perSecond, rawOpened.perSecond)}×`);
      out(`      the same open without HTTP (EscalationService in this process) ${fmt(serviceOpened)}`);
      out(`      the same service behind node:http alone, a process of its own (no Express, helmet, auth, log or metrics) ${fmt(bareOpened)} | raw p50 ${ratio(bareOpened.p50, rawOpened.p50)}×, throughput ${ratio(bareOpened.perSecond, rawOpened.perSecond)}× | API p50 ${ratio(apiOpened.p50, bareOpened.p50)}× of it`);
      out(`      raw workflow.start of the product's request (memo, search attributes, summary) ${fmt(sameOpened)} | API p50 ${ratio(apiOpened.p50, sameOpened.p50)}×, throughput ${ratio(apiOpened.perSecond, sameOpened.perSecond)}×`);
      out(`open, the path alone (a task queue no worker polls): API ${fmt(idleApiOpened)} | raw workflow.start ${fmt(idleRawOpened)} | p50 ${ratio(idleApiOpened.p50, idleRawOpened.p50)}×, throughput ${ratio(idleApiOpened.perSecond, idleRawOpened.perSecond)}×`);
      out(`      the same open without HTTP ${fmt(idleServiceOpened)}; the API process spent ${idleCpuPerOpen.toFixed(2)} ms of CPU per open`);
      out(`      the same service behind node:http alone ${fmt(idleBareOpened)} | raw p50 ${ratio(idleBareOpened.p50, idleRawOpened.p50)}×, throughput ${ratio(idleBareOpened.perSecond, idleRawOpened.perSecond)}× | API p50 ${ratio(idleApiOpened.p50, idleBareOpened.p50)}× of it`);
      out(`      raw workflow.start of the product's request ${fmt(idleSameOpened)} | API p50 ${ratio(idleApiOpened.p50, idleSameOpened.p50)}×, throughput ${ratio(idleApiOpened.perSecond, idleSameOpened.perSecond)}×`);
      out(`acknowledge: API ${fmt(apiAcked)} | raw executeUpdate ${fmt(rawAcked)} | p50 ${ratio(apiAcked.p50, rawAcked.p50)}×, throughput ${ratio(apiAcked.perSecond, rawAcked.perSecond)}×`);
      out(`      the same service behind node:http alone ${fmt(bareAcked)} | raw p50 ${ratio(bareAcked.p50, rawAcked.p50)}×, throughput ${ratio(bareAcked.perSecond, rawAcked.perSecond)}× | API p50 ${ratio(apiAcked.p50, bareAcked.p50)}× of it`);
      out(`get, first read of each case: API ${fmt(apiFirstGot)} | raw query ${fmt(rawFirstGot)} | p50 ${ratio(apiFirstGot.p50, rawFirstGot.p50)}×, throughput ${ratio(apiFirstGot.perSecond, rawFirstGot.perSecond)}×`);
      out(`      the same service behind node:http alone ${fmt(bareFirstGot)} | raw p50 ${ratio(bareFirstGot.p50, rawFirstGot.p50)}×, throughput ${ratio(bareFirstGot.perSecond, rawFirstGot.perSecond)}× | API p50 ${ratio(apiFirstGot.p50, bareFirstGot.p50)}× of it`);
      out(`get, settled cases read again: API ${fmt(apiGot)} | raw query ${fmt(rawGot)} | p50 ${ratio(apiGot.p50, rawGot.p50)}×, throughput ${ratio(apiGot.perSecond, rawGot.perSecond)}×; the API process spent ${getCpuPerGet.toFixed(2)} ms of CPU per get`);
    }

    if (PARTS.has('edge')) {
      // What the HTTP edge adds, in CPU: the API's CPU per request with the load from a process of its
      // own, against the CPU the raw SDK spends in this process on the same call (the part of the API's
      // CPU that is the call itself). Less noisy than latency ratios on shared cores.
      ids.length = 0;
      await measure(GET_CASES, CONCURRENCY, opener(base));
      const readIds = ids.splice(0);
      await settled(readIds);
      /** CPU milliseconds per request of `run`'s n requests, read by `cpu` (a process's, or this one's), and the rate. */
      const cpuPer = async (cpu: () => number, n: number, run: () => Promise<unknown>) => {
        const before = cpu();
        const began = performance.now();
        await run();
        return { ms: (cpu() - before) / n, perSecond: n / ((performance.now() - began) / 1000) };
      };
      const ownCpu = () => {
        const used = process.cpuUsage();
        return (used.user + used.system) / 1000;
      };
      const reads = N * 4;
      const fromAnotherProcess = (method: 'GET' | 'POST', urls: string[], n: number, payload?: string) =>
        new Promise<void>((resolve, reject) => {
          const script = `
            const http = require('node:http');
            const agent = new http.Agent({ keepAlive: true, maxSockets: ${CONCURRENCY} });
            const [urls, n, method, payload, auth] = JSON.parse(process.argv[1]);
            let next = 0;
            const one = (i) => new Promise((ok, fail) => {
              const headers = { authorization: auth, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) };
              const req = http.request(urls[i % urls.length], { method, agent, headers }, (res) => {
                res.resume();
                res.on('end', () => (res.statusCode < 300 ? ok() : fail(new Error(method + ' answered ' + res.statusCode))));
              });
              req.on('error', fail);
              req.end(payload);
            });
            Promise.all(Array.from({ length: ${CONCURRENCY} }, async () => { for (let i = next++; i < n; i = next++) await one(i); }))
              .then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
          const child = spawn(process.execPath, ['-e', script, JSON.stringify([urls, n, method, payload ?? null, headers.authorization])], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the load process exited ${code}`))));
        });
      const getUrls = readIds.map((id) => `${base}/escalations/${id}`);
      // The load reads the same cases again, which the API answers with a describe (its kept views): the
      // raw side sends that describe, so the difference is the edge alone.
      const describe = (n: number) =>
        measure(n, CONCURRENCY, (i) => client.workflowService.describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId: workflowIdFor(readIds[i % readIds.length]) } }));
      await fromAnotherProcess('GET', getUrls, 500); // warm alike
      await describe(500);
      const apiRead = await cpuPer(() => cpuMs(pids.api), reads, () => fromAnotherProcess('GET', getUrls, reads));
      const rawRead = await cpuPer(ownCpu, reads, () => describe(reads));
      const bareGetUrls = readIds.map((id) => `http://127.0.0.1:${barePort}/escalations/${id}`);
      await fromAnotherProcess('GET', bareGetUrls, 500); // its views kept, as the API's are
      const bareRead = await cpuPer(() => cpuMs(bares[0].proc.pid), reads, () => fromAnotherProcess('GET', bareGetUrls, reads));
      out(`edge, ${reads} reads from a load process: the API spent ${apiRead.ms.toFixed(2)} ms of CPU per get (${apiRead.perSecond.toFixed(0)}/s) | the raw SDK's describe of the same cases ${rawRead.ms.toFixed(2)} ms in its process (${rawRead.perSecond.toFixed(0)}/s) | the edge adds ${(apiRead.ms - rawRead.ms).toFixed(2)} ms per get`);
      out(`      the same service behind node:http alone spent ${bareRead.ms.toFixed(2)} ms per get (${bareRead.perSecond.toFixed(0)}/s): Express and its middleware add ${(apiRead.ms - bareRead.ms).toFixed(2)} ms`);
      const opens = N;
      const idleUrl = [`http://127.0.0.1:${idlePort}/escalations`];
      await fromAnotherProcess('POST', idleUrl, 100, JSON.stringify(body)); // warm alike
      await measure(100, CONCURRENCY, sameRequestStarter(idleQueue, 100));
      const starts = sameRequestStarter(idleQueue, opens); // built before the clock starts, as the API's is not
      const apiOpen = await cpuPer(() => cpuMs(idleApi.proc.pid), opens, () => fromAnotherProcess('POST', idleUrl, opens, JSON.stringify(body)));
      const rawOpen = await cpuPer(ownCpu, opens, () => measure(opens, CONCURRENCY, starts));
      const bareIdleUrl = [`http://127.0.0.1:${bareIdlePort}/escalations`];
      await fromAnotherProcess('POST', bareIdleUrl, 100, JSON.stringify(body));
      const bareOpenCpu = await cpuPer(() => cpuMs(bares[1].proc.pid), opens, () => fromAnotherProcess('POST', bareIdleUrl, opens, JSON.stringify(body)));
      out(`edge, ${opens} opens from a load process (a queue no worker polls): the API spent ${apiOpen.ms.toFixed(2)} ms of CPU per open (${apiOpen.perSecond.toFixed(0)}/s) | the raw SDK's start of the same request ${rawOpen.ms.toFixed(2)} ms in its process (${rawOpen.perSecond.toFixed(0)}/s) | the edge adds ${(apiOpen.ms - rawOpen.ms).toFixed(2)} ms per open`);
      out(`      the same service behind node:http alone spent ${bareOpenCpu.ms.toFixed(2)} ms per open (${bareOpenCpu.perSecond.toFixed(0)}/s): Express and its middleware add ${(apiOpen.ms - bareOpenCpu.ms).toFixed(2)} ms`);

      // Express and its middleware alone, without Temporal or a second process's load: the API's app in
      // this process around a service that answers a case view at once, against node:http answering the
      // same view, both loaded from a process of their own.
      const answer = { ...caseView(prepareStart(idleQueue, openSchema.parse(body), { caseId: 'bench-edge', policy: DEFAULT_POLICY, limits: { ...DEFAULT_LIMITS } }).opening), temporalUiUrl: null };
      const instant = { get: async () => answer, open: async () => ({ created: true, case: answer }) } as unknown as EscalationService;
      const quiet = pino({ level: common.LOG_LEVEL }, pino.destination({ dest: '/dev/null', sync: false }));
      const servers = {
        express: createApp({ service: instant, keys: parseApiKeys(`bench:agent:${KEY}`), linkSecret: common.LINK_SECRET, logger: quiet, metrics: createMetrics() }).listen(0, '127.0.0.1'),
        http: createServer((req, res) => {
          req.resume();
          req.on('end', () => res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
        }).listen(0, '127.0.0.1'),
      };
      try {
        await Promise.all(Object.values(servers).map((srv) => new Promise((r) => (srv.listening ? r(null) : srv.once('listening', r)))));
        const url = (srv: Server, path: string) => `http://127.0.0.1:${(srv.address() as AddressInfo).port}${path}`;
        const alone: string[] = [];
        for (const [what, method, path, payload] of [['get', 'GET', '/escalations/bench-edge', undefined], ['open', 'POST', '/escalations', JSON.stringify(body)]] as const) {
          const per: Record<string, number> = {};
          for (const [name, srv] of Object.entries(servers)) {
            await fromAnotherProcess(method, [url(srv, path)], 1000, payload); // warm
            per[name] = (await cpuPer(ownCpu, N * 4, () => fromAnotherProcess(method, [url(srv, path)], N * 4, payload))).ms;
          }
          alone.push(`${what} ${per.express.toFixed(2)} ms against ${per.http.toFixed(2)} ms`);
        }
        out(`edge, the Express app alone (this process, a service that answers at once, ${N * 4} requests each from a load process) against node:http answering the same: ${alone.join(', ')} of CPU per request`);
      } finally {
        for (const srv of Object.values(servers)) srv.close();
      }
    }

    if (PARTS.has('sustained')) {
      const sustain = async (url: string) => {
        let n = 0;
        const end = Date.now() + SUSTAIN_S * 1000;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (Date.now() < end) {
              await opener(url)();
              n++;
            }
          }),
        );
        return n / SUSTAIN_S;
      };
      // Each on a quiet system: the worker done with what came before (its CPU idle for a second).
      const quiet = () => waitUntil(async () => { const c = cpuMs(pids.worker); await new Promise((r) => setTimeout(r, 1000)); return cpuMs(pids.worker) - c; }, (used) => used < 100, 'the worker to be idle', 300_000);
      await quiet();
      const idle = await sustain(`http://127.0.0.1:${idlePort}`);
      await quiet();
      const cpu = { worker: cpuMs(pids.worker), server: cpuMs(pids.server) };
      const withWorker = await sustain(base);
      const opened = withWorker * SUSTAIN_S;
      const perCase = { worker: (cpuMs(pids.worker) - cpu.worker) / opened, server: (cpuMs(pids.server) - cpu.server) / opened };
      out(`sustained opens for ${SUSTAIN_S} s each: with the worker processing each case ${withWorker.toFixed(1)}/s | a queue no worker polls ${idle.toFixed(1)}/s | ${ratio(withWorker, idle)}×; CPU per opened case: worker ${perCase.worker.toFixed(1)} ms, server ${perCase.server.toFixed(1)} ms`);
    }

    /**
     * n cases whose acknowledge deadlines fall evenly over windowS seconds, the first `lead` seconds
     * after the first open (time to open them all and for the worker to take their opening steps).
     * Each case opens with its own policy (acknowledgeWithin reaching its deadline) and no reminders
     * after the breach: the deadlines alone. Lateness: when the workflow recorded the breach, after its due time.
     */
    const deadlines = async (label: string, n: number, windowS: number) => {
      const began = Date.now();
      const lead = Math.max(30, Math.ceil(n / 25)) * 1000;
      const t0 = began + lead;
      const ids = Array.from({ length: n }, () => `bench-${label}-${randomBytes(6).toString('hex')}`);
      const due = ids.map((_, i) => t0 + Math.round((i * windowS * 1000) / n));
      const peaks = rssPeaks(pids);
      await measure(n, CONCURRENCY, async (i) => {
        const openedAt = Date.now();
        await start(taskQueue, { caseId: ids[i], openedAt: new Date(openedAt).toISOString(), policy: { ...DEFAULT_POLICY, acknowledgeWithin: `${Math.max(1, due[i] - openedAt)}ms`, remindEvery: '24h' } });
      });
      const openedIn = (Date.now() - began) / 1000;
      const late = Math.max(0, Date.now() - t0);
      // Queries of one case while the deadlines fall: does a reader get an answer, and how fast?
      const probe = ids[0];
      const queries: number[] = [];
      let failedQueries = 0;
      const until = due[n - 1] + 5_000;
      const querying = (async () => {
        while (Date.now() < until) {
          const t = performance.now();
          try {
            await client.connection.withDeadline(Date.now() + 10_000, () => client.workflow.getHandle(workflowIdFor(probe)).query(getCaseQuery));
            queries.push(performance.now() - t);
          } catch {
            failedQueries++;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      // Read the breaches once the deadlines have passed (reading during the burst would add load of our own),
      // each case until it has one.
      await new Promise((r) => setTimeout(r, Math.max(0, due[n - 1] + 2_000 - Date.now())));
      const breaches = await eachCase(ids, (v) => v.breaches.find((b) => b.kind === 'acknowledge'), 'acknowledge breach', Math.max(600_000, windowS * 2000));
      await querying;
      const lateness = breaches.map((b) => Date.parse(b.at) - Date.parse(b.dueAt)).sort((a, b) => a - b);
      const lastBreach = Math.max(...breaches.map((b) => Date.parse(b.at)));
      const drained = (lastBreach - due[n - 1]) / 1000;
      queries.sort((a, b) => a - b);
      const cpu = peaks.cpuBetween(t0, lastBreach);
      out(
        `${label}: ${n} acknowledge deadlines over ${windowS} s (${(n / windowS).toFixed(1)}/s; opened in ${openedIn.toFixed(0)} s${late ? `, ${(late / 1000).toFixed(0)} s after the first deadline: raise the lead` : ''}): lateness p50 ${at(lateness, 50)} ms, p99 ${at(lateness, 99)} ms, max ${lateness.at(-1)} ms; drained ${drained.toFixed(1)} s after the last deadline; queries during it: ${queries.length} answered (slowest ${(queries.at(-1) ?? 0).toFixed(0)} ms), ${failedQueries} failed; peak RSS: ${peaks.stop()}; CPU from the first deadline to the last breach: ${cpu}`,
      );
    };
    if (PARTS.has('burst')) await deadlines('burst', BURST_N, BURST_WINDOW_S);
    if (PARTS.has('held')) await deadlines('held', HELD_N, Math.round(HELD_N / HELD_RATE));

    if (PARTS.has('case')) {
      // The same cases (the same plays) as rules 4 ran them and as today's rules run them: the playbook's
      // path in ten actions, open to closed, and a longer case with sixteen.
      for (const name of ['rules-4-ten-actions-case', `rules-${RULES_VERSION}-ten-actions-case`, 'panel-full-case', `rules-${RULES_VERSION}-full-case`]) {
        const file = join(__dirname, '..', 'test', 'histories', `${name}.json`);
        const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(file, 'utf8')));
        const events = history.events ?? [];
        const updates = events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length;
        const t = performance.now();
        await Worker.runReplayHistory(WORKFLOW_SOURCE, history, `bench-replay-${name}`);
        const replayMs = performance.now() - t;
        // Where the events go: each kind's count and share of the history's bytes.
        const E = temporal.api.enums.v1.EventType;
        const kinds: [string, number[]][] = [
          ['workflow tasks', [E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, E.EVENT_TYPE_WORKFLOW_TASK_STARTED, E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]],
          ['activities (sends)', [E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, E.EVENT_TYPE_ACTIVITY_TASK_STARTED, E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, E.EVENT_TYPE_ACTIVITY_TASK_FAILED]],
          ['timers', [E.EVENT_TYPE_TIMER_STARTED, E.EVENT_TYPE_TIMER_FIRED, E.EVENT_TYPE_TIMER_CANCELED]],
          ['updates', [E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED]],
          ['search-attribute upserts', [E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]],
          ['markers (local sends, Slack panel refreshes, patches)', [E.EVENT_TYPE_MARKER_RECORDED]],
        ];
        const size = (e: (typeof events)[number]) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
        const total = events.reduce((t, e) => t + size(e), 0);
        const profile = kinds.map(([kind, types]) => {
          const mine = events.filter((e) => types.includes(e.eventType as number));
          return `${kind} ${mine.length} (${((100 * mine.reduce((t, e) => t + size(e), 0)) / total).toFixed(0)}% of bytes)`;
        });
        const rules = Number(/"rulesVersion":(\d+)/.exec(Buffer.from(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? []).toString())?.[1] ?? 0);
        out(`a case (test/histories/${name}.json, rules ${rules}, ${updates} updates): ${events.length} events (${(events.length / updates).toFixed(1)} per update), ${(total / 1024).toFixed(0)} KiB as Temporal stores them (${(statSync(file).size / 1024).toFixed(0)} KiB of JSON), replayed in ${replayMs.toFixed(0)} ms (a worker's bundle included)`);
        out(`      where the events go: ${profile.join(', ')}`);
      }
    }

    if (PARTS.has('heap')) {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const heapMiB = () => {
        gc();
        gc();
        return process.memoryUsage().heapUsed / 1048576;
      };
      const activities = activitiesFromConfig(parseEnv({ ...process.env, ...common }), loadEscalationConfig(undefined), common.LINK_SECRET);
      const perCase = async (source: typeof WORKFLOW_SOURCE | { workflowsPath: string }) => {
        const queue = `${taskQueue}-heap-${randomBytes(3).toString('hex')}`;
        const w = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, debugMode: true, maxCachedWorkflows: HEAP_N + 50, activities, ...source });
        const running = w.run();
        try {
          const open = (caseId: string) =>
            client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, { taskQueue: queue, workflowId: workflowIdFor(caseId), args: [{ caseId, input: body, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }] });
          // The first cases load the bundle and warm the thread; then the heap before and after HEAP_N more.
          const warm = Array.from({ length: 5 }, () => `bench-heap-${randomBytes(6).toString('hex')}`);
          await measure(warm.length, CONCURRENCY, (i) => open(warm[i]));
          await settled(warm);
          const before = heapMiB();
          const held = Array.from({ length: HEAP_N }, () => `bench-heap-${randomBytes(6).toString('hex')}`);
          await measure(held.length, CONCURRENCY, (i) => open(held[i]));
          await settled(held);
          return ((heapMiB() - before) * 1024) / HEAP_N;
        } finally {
          w.shutdown();
          await running;
        }
      };
      const shared = await perCase(WORKFLOW_SOURCE);
      const own = await perCase({ workflowsPath: WORKFLOW_SOURCE.workflowsPath });
      out(`heap per cached case (${HEAP_N} cases held by one worker): ${shared.toFixed(0)} KiB with the shared modules preloaded | ${own.toFixed(0)} KiB with every module evaluated per case | ${ratio(shared, own)}×`);
    }

    if (PARTS.has('idle')) {
      const idleRss = async (mode: 'child' | 'in-process') => {
        const p = spawnProgram('scripts/bench-idle-worker.ts', { ...common, TEMPORAL_TASK_QUEUE: `${taskQueue}-idle-${mode}`, BENCH_IDLE_BUNDLE: mode });
        try {
          await p.waitFor(/idle worker rss \d+/, 180_000);
          return Number(/idle worker rss (\d+)/.exec(p.output())![1]);
        } finally {
          await p.kill('SIGTERM');
        }
      };
      const child = await idleRss('child');
      const own = await idleRss('in-process');
      out(`a worker at rest (no case): ${child} MiB resident with its workflow code bundled in a child process | ${own} MiB bundled in its own process | ${ratio(child, own)}×`);
    }
  } finally {
    agent.destroy();
    await Promise.all([api.kill('SIGTERM'), idleApi.kill('SIGTERM'), worker.kill('SIGTERM'), ...bares.map((b) => b.kill('SIGTERM'))]);
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
