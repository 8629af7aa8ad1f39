/**
 * `npm run bench`, part `idle`: one worker started as `npm run worker` starts it, its resident memory read
 * once it has run for a few seconds with no case. `in-process` bundles the workflow code in the worker's
 * own process first (what every worker did before worker/bundle.ts), `child` as the product does.
 */
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { createLogger } from '../config/logger';
import { loadEscalationConfig, parseEnv } from '../config/settings';
import { temporalConnectConfig } from '../config/temporal';
import { escalationWorkerFromEnv } from '../worker/worker';
import { QUIET_BUNDLER_LOGGER, WORKFLOW_BUNDLE_SOURCE } from '../worker/workflow-source';

async function main() {
  const mode = process.env.BENCH_IDLE_BUNDLE;
  if (mode !== 'in-process' && mode !== 'child') throw new Error('BENCH_IDLE_BUNDLE=in-process|child');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = parseEnv();
  const logger = createLogger('warn', 'worker');
  const workflowBundle = mode === 'in-process' ? await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_SOURCE, logger: QUIET_BUNDLER_LOGGER }) : undefined;
  const { worker, connection } = await escalationWorkerFromEnv({
    env,
    config: loadEscalationConfig(undefined),
    linkSecret: env.LINK_SECRET ?? 'bench-idle-worker-secret',
    connect: temporalConnectConfig(),
    logger,
    workflowBundle,
  });
  const running = worker.run();
  await new Promise((r) => setTimeout(r, 5000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  console.log(`idle worker rss ${rss.toFixed(0)}`);
  worker.shutdown();
  await running;
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
