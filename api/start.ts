/**
 * `npm start`: everything in one process tree. Without TEMPORAL_ADDRESS an embedded Temporal dev
 * server (database under DATA_DIR, Web UI), then the worker and the API.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEV_SERVER_SQLITE_PRAGMAS, devServerExecutable } from '../config/temporal-binaries';
import { ensurePortFree } from '../config/ports';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { createLogger } from '../config/logger';
import { loadSecrets } from '../config/secrets';
import { ConfigError, loadEscalationConfig, parseEnv } from '../config/settings';
import { temporalConnectConfig } from '../config/temporal';
import { escalationWorkerFromEnv, workerRunningFields } from '../worker/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/messages';
import { createMetrics } from '../config/metrics';
import { apiOptionsFrom, startApi } from './server';
import { startDevServer, type EmbeddedDevServer } from './dev-server';

/** The SDK's log, with warnings dropped once `quiet` (the embedded dev server is stopping with us). */
class ShutdownQuietLogger extends DefaultLogger {
  quiet = false;
  override log(level: Parameters<DefaultLogger['log']>[0], message: string, meta?: Record<string, unknown>): void {
    if (this.quiet && level === 'WARN') return;
    super.log(level, message, meta);
  }
}

async function main() {
  const env = parseEnv();
  // Shutdown is ours (below): the API first, then the worker, then the dev server.
  const runtimeLog = new ShutdownQuietLogger('WARN');
  // Core's own log lines are forwarded to it (not printed by core itself), so one place decides what shows.
  Runtime.install({ logger: runtimeLog, shutdownSignals: [], telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } } });
  const logger = createLogger(env.LOG_LEVEL, 'escalations');
  const config = loadEscalationConfig(env.ESCALATION_CONFIG);
  mkdirSync(env.DATA_DIR, { recursive: true });
  const secrets = loadSecrets(env.DATA_DIR, env);

  // Every port first: a taken one is a clear error within a second, not a hang or another process answering.
  await ensurePortFree('PORT', env.PORT);
  if (!env.TEMPORAL_ADDRESS) {
    await ensurePortFree('TEMPORAL_DEV_PORT', env.TEMPORAL_DEV_PORT, '127.0.0.1');
    await ensurePortFree('TEMPORAL_UI_PORT', env.TEMPORAL_UI_PORT, '127.0.0.1');
  }

  let devServer: EmbeddedDevServer | undefined;
  let address = env.TEMPORAL_ADDRESS;
  if (!address) {
    const executable = devServerExecutable();
    logger.info({ executable: executable.type === 'existing-path' ? executable.path : 'SDK download' }, 'starting the embedded Temporal dev server');
    devServer = await startDevServer({
      executable,
      ip: '127.0.0.1',
      port: env.TEMPORAL_DEV_PORT,
      uiPort: env.TEMPORAL_UI_PORT,
      dbFilename: resolve(join(env.DATA_DIR, 'temporal.db')),
      sqlitePragmas: DEV_SERVER_SQLITE_PRAGMAS,
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
    });
    address = devServer.address;
  }
  const connect = temporalConnectConfig({ address });
  const metrics = createMetrics(); // one registry: the worker's messages and the API's requests on one /metrics

  const { worker, connection, threadHeapLimitMb } = await escalationWorkerFromEnv({ env, config, linkSecret: secrets.linkSecret, connect, logger, metrics });
  const running = worker.run();
  logger.info(workerRunningFields(worker, threadHeapLimitMb, env, connect.namespace), 'worker running');
  const options = apiOptionsFrom({ env, config, secrets, connect, logger });
  // The embedded dev server's UI, unless TEMPORAL_UI_URL says otherwise: each case view links to its workflow.
  if (devServer && !options.temporalUiUrl) options.temporalUiUrl = `http://localhost:${env.TEMPORAL_UI_PORT}`;
  const api = await startApi({ ...options, metrics });

  const lines = [
    '',
    `  API          http://localhost:${api.port}`,
    `  API docs     http://localhost:${api.port}/docs`,
    devServer ? `  Temporal UI  http://localhost:${env.TEMPORAL_UI_PORT}` : `  Temporal     ${address}`,
    env.SMTP_URL ? `  Email        ${new URL(env.SMTP_URL).host}` : `  Outbox       ${resolve(env.DATA_DIR, 'outbox')} (no SMTP_URL: emails are written here)`,
    ...(api.smtpPort ? [`  Replies      smtp://localhost:${api.smtpPort} (customer replies by email: INBOUND_SMTP_PORT)`] : []),
    ...(secrets.adminKey ? [`  Admin key    ${secrets.adminKey}  (kept in ${join(env.DATA_DIR, 'secrets.json')}; set API_KEYS to choose your own)`] : []),
    '',
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  // Every signal waits for the same, single shutdown.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping');
      // Only with the SDK's downloaded dev server (no CLI here) does a terminal's Ctrl-C reach it too, at
      // the same moment: the worker's last calls then retry against a server already gone. Expected, and
      // nothing is lost (the server kept the task in its database and hands it out again at the next
      // start): no warning for it.
      runtimeLog.quiet = devServer?.sharesOurSignals === true;
      await api.close();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err) => logger.error({ err }, 'worker stopped with an error'));
      await connection.close();
      await devServer?.stop();
      logger.info('stopped');
    })());
  // SIGHUP too (the terminal closed): the dev server, in a session of its own, would outlive us otherwise.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));
  await running.catch(async (err) => {
    logger.error({ err }, 'worker failed');
    await stop();
    process.exitCode = 1;
  });
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1); // the Temporal runtime would keep a failed start alive
});
