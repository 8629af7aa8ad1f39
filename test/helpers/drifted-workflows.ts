/** A different `escalationWorkflow` (code that drifted from the real one): its histories must not replay against today's. */
import { sleep } from '@temporalio/workflow';

export async function escalationWorkflow(): Promise<void> {
  await sleep('1 hour');
}
