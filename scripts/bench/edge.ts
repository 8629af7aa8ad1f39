/** `npm run bench`, part edge: what the HTTP edge adds, in CPU per request, against the raw SDK and node:http alone. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { EscalationService, prepareStart } from '../../api/service';
import { openSchema } from '../../api/schemas';
import { createApp } from '../../api/app';
import { parseApiKeys } from '../../api/auth';
import { createMetrics } from '../../config/metrics';
import { DEFAULT_LIMITS, DEFAULT_POLICY, caseView, workflowIdFor } from '../../playbook';
import { type Bench, N, CONCURRENCY, KEY, GET_CASES, measure, cpuMs } from './harness';

export async function edge(b: Bench): Promise<void> {
  const { client, common, idleApi, idleQueue, idlePort, barePort, bareIdlePort, bares, pids, out, base, body, headers, ids, opener, sameRequestStarter, settled } = b;
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
