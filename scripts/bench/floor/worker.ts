/**
 * The monday part's floor worker: `mondayFloor` (./workflows.ts) on FLOOR_TASK_QUEUE, with the product
 * worker's cache and task settings (WORKER_MAX_CACHED_WORKFLOWS, 500 by default, and as many workflow
 * tasks at once as worker/worker.ts allows), so the two differ only in the workflow's own work.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { bundleInChildProcess } from '../../../worker/bundle';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cache = Number(process.env.WORKER_MAX_CACHED_WORKFLOWS ?? 500);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.FLOOR_TASK_QUEUE!,
    workflowBundle: await bundleInChildProcess(require.resolve('./workflows')),
    maxCachedWorkflows: cache,
    ...(cache > 0 ? { maxConcurrentWorkflowTaskExecutions: Math.max(2, Math.min(40, cache)) } : {}),
  });
  const running = worker.run();
  console.log('floor worker running');
  process.once('SIGTERM', () => worker.shutdown());
  await running;
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
