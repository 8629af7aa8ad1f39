/** `npm run bench`, part idle: a worker's resident memory at rest, bundling in a child process against in its own. */
import { spawnProgram } from '../../test/helpers/processes';
import { type Bench, ratio } from './harness';

export async function idle(b: Bench): Promise<void> {
  const { taskQueue, common, out } = b;
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
