/** `npm run worker`: one worker against TEMPORAL_ADDRESS. Run as many as the load needs. */
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { createLogger } from '../config/logger';
import { loadSecrets } from '../config/secrets';
import { ConfigError, loadEscalationConfig, parseEnv } from '../config/settings';
import { temporalConnectConfig } from '../config/temporal';
import { quitIfStopped, stopSignal } from '../config/connect';
import { createMetrics, serveMetrics } from '../config/metrics';
import { ensurePortFree } from '../config/ports';
import { escalationWorkerFromEnv, workerRunningFields } from './worker';

async function main() {
  const env = parseEnv();
  // With METRICS_PORT, the SDK's own metrics are served on loopback (WORKER_SDK_METRICS_PORT, else the port
  // after METRICS_PORT) and merged into /metrics. Both are checked first: the SDK's own error names neither.
  const sdkPort = env.METRICS_PORT ? (env.WORKER_SDK_METRICS_PORT ?? env.METRICS_PORT + 1) : undefined;
  if (env.METRICS_PORT && sdkPort) {
    await ensurePortFree('METRICS_PORT', env.METRICS_PORT);
    await ensurePortFree('WORKER_SDK_METRICS_PORT', sdkPort, '127.0.0.1');
  }
  const sdkMetrics = sdkPort ? `127.0.0.1:${sdkPort}` : undefined;
  Runtime.install({ logger: new DefaultLogger('WARN'), ...(sdkMetrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetrics } } } } : {}) });
  const metrics = createMetrics();
  const logger = createLogger(env.LOG_LEVEL, 'worker');
  const config = loadEscalationConfig(env.ESCALATION_CONFIG);
  const { linkSecret } = loadSecrets(env.DATA_DIR, { LINK_SECRET: env.LINK_SECRET, API_KEYS: 'n/a' });
  const connect = temporalConnectConfig();
  const waiting = stopSignal();
  const { worker, connection, threadHeapLimitMb } = await escalationWorkerFromEnv({ env, config, linkSecret, connect, logger, metrics, signal: waiting.signal }).catch(quitIfStopped(logger));
  waiting.release();
  const metricsServer = env.METRICS_PORT
    ? await serveMetrics({ port: env.METRICS_PORT, metrics, extra: [`http://${sdkMetrics}/metrics`], healthy: () => worker.getState() === 'RUNNING' })
    : undefined;
  logger.info(workerRunningFields(worker, threadHeapLimitMb, env, connect.namespace), 'worker running; Ctrl-C to stop');
  await worker.run(); // returns after SIGINT/SIGTERM, once in-flight tasks are done
  metricsServer?.close();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1); // the Temporal runtime would keep a failed start alive
});
