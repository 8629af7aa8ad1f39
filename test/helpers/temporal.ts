import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { prepareNamespace } from '../../scripts/cluster/stack';
import { devServerExecutable, testServerExecutable } from '../../config/temporal-binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/messages';
import { ensureSearchAttributes } from '../../worker/search-attributes';

/** The time-skipping test server: a month of a case in seconds. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServerExecutable() } });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/**
 * The Temporal server of `npm run test:cluster` (PostgreSQL, SQL visibility), when it set
 * TEMPORAL_TEST_ADDRESS: a namespace of the caller's own, so its lists and reports see its cases alone,
 * as on a dev server of its own.
 */
export const clusterAddress = process.env.TEMPORAL_TEST_ADDRESS || undefined;

async function clusterEnv(address: string): Promise<TestWorkflowEnvironment> {
  const namespace = `test-${randomBytes(5).toString('hex')}`;
  const connection = await Connection.connect({ address });
  try {
    await prepareNamespace(connection, namespace, 1);
  } finally {
    await connection.close();
  }
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
}

/**
 * A real dev server (with visibility), the case's search attributes registered; the cluster's under
 * `npm run test:cluster`. `dynamicConfig`: the server's settings changed (a dev server of its own even then).
 */
export function devServerEnv(o: { uiPort?: number; dynamicConfig?: Record<string, string | number> } = {}): Promise<TestWorkflowEnvironment> {
  if (clusterAddress && !o.uiPort && !o.dynamicConfig) return clusterEnv(clusterAddress);
  return TestWorkflowEnvironment.createLocal({
    // Its warnings (a task cancelled as a test ends, a slow call on a busy machine) are not the product's: errors only.
    server: {
      executable: devServerExecutable(),
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      ...(o.uiPort ? { ui: true, uiPort: o.uiPort } : {}),
      ...(o.dynamicConfig ? { extraArgs: Object.entries(o.dynamicConfig).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]) } : {}),
    },
  });
}
