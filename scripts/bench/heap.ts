/** `npm run bench`, part heap: the workflow thread's heap per cached case, with the shared modules preloaded and without. */
import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { DEFAULT_POLICY, RULES_VERSION, workflowIdFor } from '../../playbook';
import { ESCALATION_WORKFLOW, type EscalationInput } from '../../workflows/messages';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';
import { activitiesFromConfig } from '../../worker/worker';
import { loadEscalationConfig, parseEnv } from '../../config/settings';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Bench, CONCURRENCY, HEAP_N, measure, ratio } from './harness';

export async function heap(b: Bench): Promise<void> {
  const { env, client, taskQueue, common, out, body, settled } = b;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapMiB = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1048576;
  };
  const activities = activitiesFromConfig(parseEnv({ ...process.env, ...common }), loadEscalationConfig(undefined), common.LINK_SECRET);
  const perCase = async (source: typeof WORKFLOW_SOURCE | { workflowsPath: string }) => {
    const queue = `${taskQueue}-heap-${randomBytes(3).toString('hex')}`;
    const w = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, debugMode: true, maxCachedWorkflows: HEAP_N + 50, activities, ...source });
    const running = w.run();
    try {
      const open = (caseId: string) =>
        client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, { taskQueue: queue, workflowId: workflowIdFor(caseId), args: [{ caseId, input: body, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }] });
      // The first cases load the bundle and warm the thread; then the heap before and after HEAP_N more.
      const warm = Array.from({ length: 5 }, () => `bench-heap-${randomBytes(6).toString('hex')}`);
      await measure(warm.length, CONCURRENCY, (i) => open(warm[i]));
      await settled(warm);
      const before = heapMiB();
      const held = Array.from({ length: HEAP_N }, () => `bench-heap-${randomBytes(6).toString('hex')}`);
      await measure(held.length, CONCURRENCY, (i) => open(held[i]));
      await settled(held);
      return ((heapMiB() - before) * 1024) / HEAP_N;
    } finally {
      w.shutdown();
      await running;
    }
  };
  const shared = await perCase(WORKFLOW_SOURCE);
  const own = await perCase({ workflowsPath: WORKFLOW_SOURCE.workflowsPath });
  out(`heap per cached case (${HEAP_N} cases held by one worker): ${shared.toFixed(0)} KiB with the shared modules preloaded | ${own.toFixed(0)} KiB with every module evaluated per case | ${ratio(shared, own)}×`);
}
