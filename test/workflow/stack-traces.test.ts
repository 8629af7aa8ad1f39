import pino from 'pino';
import { DEFAULT_POLICY, RULES_VERSION, workflowIdFor } from '../../playbook';
import { ESCALATION_WORKFLOW, getCaseQuery } from '../../workflows/messages';
import { createEscalationWorker } from '../../worker/worker';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { devServerSuite, recordingActivities } from '../helpers/workflow-harness';

/**
 * The SDK's per-promise stack traces (the Temporal UI's "Stack Trace" tab) in a worker made as
 * `npm run worker` makes it: off by default (worker/workflow-thread-preload.cjs), on with
 * WORKER_STACK_TRACES=true. A real dev server, a real workflow thread.
 */
const suite = devServerSuite();

/** Opens a case on a worker of its own and asks its workflow for its stack trace. */
async function stackTraceOf(stackTraces?: boolean): Promise<{ stack?: string; error?: string; stage: string }> {
  const { env, code: workflowBundle } = suite;
  const taskQueue = uniqueId('tq');
  const { worker, connection } = await createEscalationWorker({
    connect: { namespace: env.namespace ?? 'default', connectionOptions: { address: env.address } },
    taskQueue,
    activities: recordingActivities().activities,
    logger: pino({ level: 'silent' }),
    workflowBundle,
    ...(stackTraces === undefined ? {} : { stackTraces }),
  });
  try {
    return await worker.runUntil(async () => {
      const caseId = uniqueId();
      const handle = await env.client.workflow.start(ESCALATION_WORKFLOW, {
        taskQueue,
        workflowId: workflowIdFor(caseId),
        args: [{ caseId, input: caseInput(), policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
      });
      const { stage } = await handle.query(getCaseQuery);
      const answer = await handle.query<string>('__stack_trace').then(
        (stack) => ({ stack }),
        (err: Error) => ({ error: err.message }),
      );
      return { ...answer, stage };
    });
  } finally {
    await connection.close();
  }
}

test('off by default: cases run, and the stack-trace query says they are off', async () => {
  const got = await stackTraceOf();
  expect(got.stage).toBe('acknowledge');
  expect(got.stack).toBeUndefined();
  expect(got.error).toMatch(/stack traces are not enabled/i);
}, 120_000);

test('on with WORKER_STACK_TRACES=true: the stack trace shows where the workflow waits', async () => {
  const got = await stackTraceOf(true);
  expect(got.stage).toBe('acknowledge');
  expect(got.error).toBeUndefined();
  expect(got.stack).toMatch(/escalationWorkflow|workflows\//);
}, 120_000);
