/** `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS. Run as many as the load needs. */
import { createLogger } from '../config/logger';
import { loadSecrets } from '../config/secrets';
import { ConfigError, loadEscalationConfig, parseEnv } from '../config/settings';
import { temporalConnectConfig } from '../config/temporal';
import { ensurePortFree } from '../config/ports';
import { quitIfStopped, stopSignal } from '../config/connect';
import { apiOptionsFrom, startApi } from './server';

async function main() {
  const env = parseEnv();
  const logger = createLogger(env.LOG_LEVEL, 'api');
  const config = loadEscalationConfig(env.ESCALATION_CONFIG);
  const secrets = loadSecrets(env.DATA_DIR, env);
  await ensurePortFree('PORT', env.PORT);
  const waiting = stopSignal();
  const api = await startApi({ ...apiOptionsFrom({ env, config, secrets, connect: temporalConnectConfig(), logger }), signal: waiting.signal }).catch(quitIfStopped(logger));
  waiting.release();
  logger.info({ port: api.port }, `API on http://localhost:${api.port} (docs at /docs)`);
  const stop = () => {
    logger.info('stopping API');
    void api.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1); // the Temporal runtime would keep a failed start alive
});
