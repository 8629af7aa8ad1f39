/** `npm run bench`, part sustained: opens through the API for a while, with the worker processing each case against none. */
import { waitUntil } from '../../test/helpers/processes';
import { type Bench, CONCURRENCY, SUSTAIN_S, ratio, cpuMs } from './harness';

export async function sustained(b: Bench): Promise<void> {
  const { idlePort, pids, out, base, opener } = b;
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
