/**
 * The monday part's floor worker: `mondayFloor` (./workflows.ts) on FLOOR_TASK_QUEUE, with the product
 * worker's cache settings from the same environment (cacheFromEnv, cacheOptions: the cache, the workflow
 * tasks at once, the sticky queue), so the two differ only in the workflow's own work.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { parseEnv } from '../../../config/settings';
import { temporalConnectConfig } from '../../../config/temporal';
import { bundleInChildProcess } from '../../../worker/bundle';
import { cacheFromEnv, cacheOptions } from '../../../worker/worker';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connect = temporalConnectConfig();
  const connection = await NativeConnection.connect(connect.connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace: connect.namespace,
    taskQueue: process.env.FLOOR_TASK_QUEUE!,
    workflowBundle: await bundleInChildProcess(require.resolve('./workflows')),
    ...cacheOptions(cacheFromEnv(parseEnv())),
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
