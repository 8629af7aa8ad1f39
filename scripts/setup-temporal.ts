/**
 * `npm run setup:temporal`: registers the case's search attributes in an existing namespace (a cluster,
 * the compose stack). Idempotent: attributes already there are left alone. Reads TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE and temporal.toml profiles like the worker; waits for Temporal with backoff.
 * On Temporal Cloud the operator API is closed to API keys of this kind: create them in the console.
 */
import { connectToTemporal } from '../config/connect';
import { createLogger } from '../config/logger';
import { temporalConnectConfig } from '../config/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/messages';

async function main() {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info', 'setup');
  const connect = temporalConnectConfig();
  const connection = await connectToTemporal(connect, logger);
  try {
    const added = await ensureSearchAttributes(connection, connect.namespace);
    logger.info({ namespace: connect.namespace, added, total: ALL_SEARCH_ATTRIBUTES.length }, added.length ? `registered ${added.length} search attributes` : 'search attributes already registered');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
