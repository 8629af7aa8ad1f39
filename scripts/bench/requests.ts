/** `npm run bench`, part requests: the API against the raw SDK, request by request (open, acknowledge, get): p50, p99, throughput and ratios. */
import { randomBytes } from 'node:crypto';
import { EscalationService } from '../../api/service';
import { openSchema } from '../../api/schemas';
import { DEFAULT_POLICY, workflowIdFor } from '../../playbook';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import { type Bench, N, ACK_N, CONCURRENCY, ROUNDS, GET_CASES, measure, fmt, ratio, alternate, cpuMs, call } from './harness';

export async function requests(b: Bench): Promise<void> {
  const { client, taskQueue, api, idleApi, idleQueue, idlePort, barePort, bareIdlePort, out, base, body, headers, ids, opener, start, starter, sameRequestStarter, settled } = b;
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
