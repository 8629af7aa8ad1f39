/** `npm run bench`'s harness: its settings, the measures and the processes every part runs against. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { prepareStart } from '../../api/service';
import { openSchema } from '../../api/schemas';
import { freePort } from '../../config/ports';
import { DEV_SERVER_SQLITE_PRAGMAS, devServerExecutable } from '../../config/temporal-binaries';
import { DEFAULT_LIMITS, DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor, type Calendar, type CaseView, type Policy } from '../../playbook';
import { ALL_SEARCH_ATTRIBUTES, ESCALATION_WORKFLOW, getCaseQuery, type EscalationInput } from '../../workflows/messages';
import { spawnProgram } from '../../test/helpers/processes';
import { buildServer, createSchemas, prepareNamespace, startPostgres, startServer } from '../cluster/stack';
import { openBody } from '../../test/helpers/system';

export const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
export const N = num('BENCH_N', 800);
export const ACK_N = num('BENCH_ACK_N', 300);
export const CONCURRENCY = num('BENCH_CONCURRENCY', 8);
export const ROUNDS = num('BENCH_ROUNDS', 10);
export const SUSTAIN_S = num('BENCH_SUSTAIN_S', 20);
export const BURST_N = num('BENCH_BURST_N', 1000);
export const BURST_WINDOW_S = num('BENCH_BURST_WINDOW_S', 10);
export const HELD_N = num('BENCH_HELD_N', 1000);
export const HELD_RATE = num('BENCH_HELD_RATE', 5.5);
export const HEAP_N = num('BENCH_HEAP_N', 200);
export const MONDAY_N = num('BENCH_MONDAY_N', 1000);
/**
 * Seconds before the deadline the monday part's warnings come (15: a quarter of its one-minute window,
 * as the playbook's quarter of an hour is). In the playbook they come 15 minutes before: drained long
 * before the deadline. A larger figure here lets them drain before it, to measure the deadlines alone.
 */
export const MONDAY_WARN_S = num('BENCH_MONDAY_WARN_S', 15);
/** The monday part's floor first (1), or not (0): the same burst of bare workflows, scripts/bench/floor/. */
export const MONDAY_FLOOR = num('BENCH_MONDAY_FLOOR', 1) === 1;
/** Worker processes on the run's task queue (`npm run worker` each, with its own cache): how the parts scale with workers. */
export const WORKERS = num('BENCH_WORKERS', 1);
export const PARTS = new Set((process.env.BENCH_PARTS ?? 'requests,edge,sustained,burst,held,case,heap,idle').split(','));
export const STORE = (process.env.BENCH_STORE ?? 'tuned') as 'tuned' | 'file' | 'memory' | 'cluster';
export const KEY = 'bench-agent-key-0123456789';
/** The Monday part's team lead: reads every case and the list (the agent key reads them too). */
export const ADMIN_KEY = 'bench-admin-key-0123456789';
/** Cases opened first and read by the get measure. */
export const GET_CASES = 50;

export interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

export const at = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function measure(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
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

export const fmt = (f: Figures) => `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, ${f.perSecond.toFixed(1)}/s`;
export const ratio = (a: number, b: number) => (a / b).toFixed(2);

/** Runs the sides in rounds of n/rounds each, the order rotating every round, and pools each side's timings. */
export async function alternate(n: number, ...sides: ((i: number) => Promise<unknown>)[]): Promise<Figures[]> {
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
export const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** CPU milliseconds a process has used (user + system), from /proc. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** A process's and all its descendants' CPU (ms): PostgreSQL's work is in its backends, children of the postmaster. */
export function treeCpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const walk = (p: number) => {
    total += cpuMs(p) || 0;
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return total;
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The dev server's process: the one whose command line names its port. */
export function serverPid(port: string): number | undefined {
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

/** Processes whose CPU is counted with their descendants' (rssPeaks): PostgreSQL's backends. */
export const TREES = new Set(['postgres']);

/** Samples the peak RSS of each process every second until stopped. */
export function rssPeaks(pids: Record<string, number | undefined>) {
  const cpuOf = (k: string, pid: number | undefined) => (TREES.has(k) ? treeCpuMs(pid) : cpuMs(pid));
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  // Each process's CPU, sampled with its memory: what a stretch of the run cost each.
  const samples: { at: number; cpu: Record<string, number> }[] = [];
  const sample = () => {
    for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k], rssMiB(pid) || 0);
    samples.push({ at: Date.now(), cpu: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(k, pid)])) });
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
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });
export function call(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
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


/** What the parts run against: a Temporal server's address and connections, its processes, and how to stop it. */
export interface BenchServer {
  address: string;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** The server's processes by name (the dev server; or the cluster's server and PostgreSQL). */
  pids: Record<string, number | undefined>;
  describe: string;
  teardown(): Promise<void>;
}

/**
 * BENCH_STORE=cluster: `npm run cluster`'s Temporal (the server built from its Go module, on a throwaway
 * PostgreSQL, scripts/cluster/stack.ts) instead of a dev server; the bench's own worker(s) and API.
 */
async function clusterServer(dir: string): Promise<BenchServer> {
  const log = (line: string) => process.stdout.write(`bench: cluster: ${line}\n`);
  const tools = buildServer(log);
  const pg = await startPostgres(log);
  try {
    createSchemas(tools, pg.port, log);
    const server = await startServer(tools, { pgPort: pg.port, frontendPort: await freePort(), dir: join(dir, 'cluster') }, log);
    const connection = await Connection.connect({ address: server.address });
    await prepareNamespace(connection, 'default', 1);
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    return {
      address: server.address,
      connection,
      nativeConnection,
      pids: { server: server.pid, postgres: pg.pid },
      describe: `the Temporal server ${tools.version} on PostgreSQL (npm run cluster's)`,
      async teardown() {
        await Promise.all([connection.close(), nativeConnection.close()]);
        await server.stop();
        await pg.stop();
      },
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}

async function benchServer(dir: string): Promise<BenchServer> {
  if (STORE === 'cluster') return clusterServer(dir);
  const env = await devServer(dir);
  return {
    address: env.address,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    pids: { server: serverPid(env.address.split(':').at(-1)!) },
    describe: `one dev server (${STORE === 'memory' ? 'in memory' : `database file${STORE === 'tuned' ? `, ${DEV_SERVER_SQLITE_PRAGMAS.join(' ')}` : ', SQLite defaults'}`})`,
    teardown: () => env.teardown(),
  };
}

/** One dev server, as `npm start` runs it (a database file, tuned) unless BENCH_STORE says otherwise. */
export async function devServer(dir: string): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
      ...(STORE === 'memory' ? {} : { dbFilename: join(dir, 'temporal.db') }),
      ...(STORE === 'tuned' ? { extraArgs: DEV_SERVER_SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]) } : {}),
    },
  });
}

/**
 * One dev server, the product's worker and API as their own processes (and the API on a queue no worker
 * polls, and node:http alone around the same service where the parts need it), and what the parts share.
 */
export async function setUp(parts: Set<string>) {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const env = await benchServer(dir);
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
  const moreWorkers = Array.from({ length: Math.max(0, WORKERS - 1) }, () => spawnProgram('worker/main.ts', common));
  const api = spawnProgram('api/main.ts', { ...common, PORT: String(port), API_KEYS: `bench:agent:${KEY},board:admin:${ADMIN_KEY}` }, profile);
  // The same API on a task queue no worker polls: the open path alone, without the worker's processing
  // of each new case competing for the same two cores.
  const idleQueue = `${taskQueue}-idle`;
  const idlePort = await freePort();
  const idleApi = spawnProgram('api/main.ts', { ...common, TEMPORAL_TASK_QUEUE: idleQueue, PORT: String(idlePort), API_KEYS: `bench:agent:${KEY}` });
  // The floor under the API's figures: node:http alone around the same service, on each queue
  // (scripts/bench-bare-api.ts), for the parts that time the open and the get.
  const bare = parts.has('requests') || parts.has('edge');
  const [barePort, bareIdlePort] = bare ? [await freePort(), await freePort()] : [0, 0];
  const bares = bare ? [spawnProgram('scripts/bench-bare-api.ts', { ...common, PORT: String(barePort) }), spawnProgram('scripts/bench-bare-api.ts', { ...common, TEMPORAL_TASK_QUEUE: idleQueue, PORT: String(bareIdlePort) })] : [];
  const pids: Record<string, number | undefined> = { worker: worker.proc.pid, ...Object.fromEntries(moreWorkers.map((w, i) => [`worker${i + 2}`, w.proc.pid])), api: api.proc.pid, ...env.pids };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const client = new Client({ connection: env.connection });
  const base = `http://127.0.0.1:${port}`;
  const body = openBody();
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  out(`bench: ${env.describe}, ${WORKERS === 1 ? 'the worker' : `${WORKERS} workers`} and the API each their own process (LOG_LEVEL=${common.LOG_LEVEL}); ${process.arch}, node ${process.version}`);

  const ids: string[] = [];
  const opener = (url: string) => async () => {
    const r = await call('POST', `${url}/escalations`, headers, JSON.stringify(body));
    if (r.status !== 201) throw new Error(`open answered ${r.status}: ${r.text}`);
    ids.push((JSON.parse(r.text) as { id: string }).id);
  };
  const start = (queue: string, o: { caseId?: string; policy?: Policy; openedAt?: string; calendar?: Calendar } = {}) => {
    const caseId = o.caseId ?? `bench-raw-${randomBytes(6).toString('hex')}`;
    return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
      taskQueue: queue,
      workflowId: workflowIdFor(caseId),
      args: [{ caseId, input: body, policy: o.policy ?? DEFAULT_POLICY, rulesVersion: RULES_VERSION, ...(o.openedAt ? { openedAt: o.openedAt } : {}), ...(o.calendar ? { calendar: o.calendar } : {}) }],
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
   * Reads each case's view (or what `o.read` reads) until `pick` finds what is awaited in it: the rest polled each second, 50
   * at a time (a burst of queries of our own would load the system being measured).
   */
  const eachCase = async <T, V = CaseView>(
    caseIds: string[],
    pick: (v: V) => T | undefined,
    what: string,
    timeoutMs = 600_000,
    o: { missing?: (ids: string[]) => void; read?: (id: string) => Promise<V> } = {},
  ): Promise<T[]> => {
    // `read`: another workflow's query (the monday part's floor); by default a case's view.
    const read = o.read ?? ((id: string) => client.workflow.getHandle(workflowIdFor(id)).query(getCaseQuery) as Promise<V>);
    const found = new Map<string, T>();
    const end = Date.now() + timeoutMs;
    for (;;) {
      const rest = caseIds.filter((id) => !found.has(id));
      for (let i = 0; i < rest.length; i += 50) {
        const views = await Promise.all(rest.slice(i, i + 50).map((id) => read(id).catch(() => undefined)));
        views.forEach((v, k) => {
          const got = v && pick(v);
          if (got !== undefined) found.set(rest[i + k], got);
        });
      }
      if (found.size === caseIds.length) return caseIds.map((id) => found.get(id)!);
      if (Date.now() > end) {
        // A part that can report on the cases found says which did not come, rather than losing every figure.
        if (o.missing) {
          o.missing(caseIds.filter((id) => !found.has(id)));
          return caseIds.filter((id) => found.has(id)).map((id) => found.get(id)!);
        }
        throw new Error(`${caseIds.length - found.size} of ${caseIds.length} cases: no ${what} after ${timeoutMs / 1000} s`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  /** Until the worker has taken every case's opening step (its opening messages delivered). */
  const settled = (caseIds: string[]) => eachCase(caseIds, (v) => (v.messages.length > 0 && v.messages.every((m) => m.status !== 'pending') ? true : undefined), 'opening messages delivered');
  /** Stops every process this run started and the dev server. */
  const stop = async () => {
    agent.destroy();
    await Promise.all([api.kill('SIGTERM'), idleApi.kill('SIGTERM'), worker.kill('SIGTERM'), ...moreWorkers.map((w) => w.kill('SIGTERM')), ...bares.map((b) => b.kill('SIGTERM'))]);
    // The processes' logs kept, and what the API answered 5xx named: a 500 is a bug to find.
    writeFileSync(join(dir, 'api.log'), api.output());
    [worker, ...moreWorkers].forEach((w, i) => writeFileSync(join(dir, `worker${i ? i + 1 : ''}.log`), w.output()));
    const failed = api.output().split('\n').filter((l) => l.includes('"request failed"'));
    if (failed.length) out(`bench: the API answered ${failed.length} request(s) 5xx, e.g. ${failed[0].slice(0, 600)} (every line in ${join(dir, 'api.log')})`);
    await env.teardown();
  };
  try {
    await Promise.all([worker.waitFor(/worker running/), ...moreWorkers.map((w) => w.waitFor(/worker running/)), api.waitFor(/API on http/), idleApi.waitFor(/API on http/), ...bares.map((b) => b.waitFor(/bare API on/))]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { env, client, taskQueue, port, common, worker, api, idleApi, idleQueue, idlePort, barePort, bareIdlePort, bares, pids, out, base, body, headers, ids, opener, start, starter, sameRequestStarter, eachCase, settled, stop };
}
export type Bench = Awaited<ReturnType<typeof setUp>>;
