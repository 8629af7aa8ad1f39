import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { DeliverInput, DeliveryResult, SendActivities, PanelInput, WebhookActivities } from '../../activities/types';
import { withStepTries } from '../../activities';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor, type Calendar, type CaseInput, type CaseView, type Limits, type Policy } from '../../playbook';
import { escalationWorkflow } from '../../workflows';
import { getCaseQuery } from '../../workflows/messages';
import { uniqueId } from './fixtures';
import { devServerEnv, timeSkippingEnv } from './temporal';
import { QUIET_BUNDLER_LOGGER, WORKFLOW_BUNDLE_SOURCE } from '../../worker/workflow-source';

/** A server made by `make` and the workflow bundle for one test file, torn down after it. */
function suiteOn(make: () => Promise<TestWorkflowEnvironment>): { env: TestWorkflowEnvironment; code: WorkflowBundleWithSourceMap } {
  const suite = {} as { env: TestWorkflowEnvironment; code: WorkflowBundleWithSourceMap };
  beforeAll(async () => {
    [suite.env, suite.code] = await Promise.all([make(), bundle()]);
  }, 120_000);
  afterAll(() => suite.env?.teardown());
  return suite;
}

/** A time-skipping server and the workflow bundle for one test file. */
export const timeSkippingSuite = () => suiteOn(timeSkippingEnv);

/** A real dev server and the workflow bundle for one test file. */
export const devServerSuite = () => suiteOn(() => devServerEnv());

export function bundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...WORKFLOW_BUNDLE_SOURCE, logger: QUIET_BUNDLER_LOGGER });
}


/** Activities as jest.fn wrappers that record every message and answer like the real senders (and the step's try of them). */
export function recordingActivities() {
  const sent: DeliverInput[] = [];
  /** Every in-place update of a case's root post, in order. */
  const panels: PanelInput[] = [];
  const activities = {
    sendEmail: jest.fn(async (i: DeliverInput): Promise<DeliveryResult> => {
      sent.push(i);
      return { status: 'sent', to: i.message.to.map((p) => `${p}@example.test`), subject: `${i.message.template}` };
    }),
    postSlack: jest.fn(async (i: DeliverInput): Promise<DeliveryResult> => {
      sent.push(i);
      return { status: 'sent', to: i.message.to, threadTs: i.threadTs ?? '1700000000.000100' };
    }),
    refreshPanel: jest.fn(async (i: PanelInput): Promise<void> => {
      panels.push(i);
    }),
  } satisfies SendActivities;
  // With the step's local try (rules 5) made of them, as a worker registers them.
  return { sent, panels, activities: withStepTries(activities) };
}

export type Handle = WorkflowHandleWithFirstExecutionRunId<typeof escalationWorkflow>;

/** Runs one case on a fresh task queue with its own worker until `fn` returns. */
export async function runCase<T>(
  env: TestWorkflowEnvironment,
  workflowBundle: WorkflowBundleWithSourceMap,
  opts: { input: CaseInput; policy?: Policy; activities: SendActivities; webhooks?: WebhookActivities; caseId?: string; historyLimit?: number; rulesVersion?: number; limits?: Limits; calendar?: Calendar; team?: string },
  fn: (handle: Handle) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('tq');
  const caseId = opts.caseId ?? uniqueId();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle,
    // The step's local try (rules 5) is made of the sends given, a test's own included.
    activities: withStepTries(opts.activities, opts.webhooks),
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(escalationWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [
        {
          caseId,
          input: opts.input,
          policy: opts.policy ?? DEFAULT_POLICY,
          historyLimit: opts.historyLimit,
          rulesVersion: 'rulesVersion' in opts ? opts.rulesVersion : RULES_VERSION,
          ...(opts.limits ? { limits: opts.limits } : {}),
          ...(opts.calendar ? { calendar: opts.calendar } : {}),
          ...(opts.team ? { team: opts.team } : {}),
        },
      ],
      staticSummary: caseSummary(opts.input),
    });
    try {
      return await fn(handle);
    } finally {
      // A case left running without its worker would hold the time-skipping clock for every later test.
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

/** Polls the case until `pred` holds: activities complete asynchronously after the step that started them. */
export async function caseWhen(handle: Handle, pred: (c: CaseView) => boolean, what = 'condition'): Promise<CaseView> {
  let last: CaseView | undefined;
  for (let i = 0; i < 200; i++) {
    last = await handle.query(getCaseQuery);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`case never reached: ${what}; last stage ${last?.stage}, messages ${JSON.stringify(last?.messages.map((m) => [m.kind, m.status]))}`);
}

export const allDelivered = (c: CaseView) => c.messages.every((m) => m.status !== 'pending');

/** Polls (bounded, 15 s) until `pred` holds. */
export async function until<T>(read: () => Promise<T>, pred: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await read();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`never reached: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
