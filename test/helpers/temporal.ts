import { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerExecutable, testServerExecutable } from '../../config/temporal-binaries';
import { SA } from '../../workflows/messages';
import { ensureSearchAttributes } from '../../worker/search-attributes';

/** The time-skipping test server: a month of a case in seconds. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServerExecutable() } });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** A real dev server (with visibility), the case's search attributes registered. */
export function devServerEnv(o: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    // Its warnings (a task cancelled as a test ends, a slow call on a busy machine) are not the product's: errors only.
    server: {
      executable: devServerExecutable(),
      searchAttributes: Object.values(SA),
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      ...(o.uiPort ? { ui: true, uiPort: o.uiPort } : {}),
    },
  });
}
