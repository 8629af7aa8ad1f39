import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { timeSkippingEnv } from '../helpers/temporal';
import { bundle, recordingActivities, runCase, caseWhen, allDelivered } from '../helpers/workflow-harness';
import { caseInput } from '../helpers/fixtures';
import { acknowledgeUpdate } from '../../workflows/messages';

let env: TestWorkflowEnvironment;
let code: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, code] = await Promise.all([timeSkippingEnv(), bundle()]);
}, 120_000);
afterAll(() => env?.teardown());

test('smoke', async () => {
  const { activities, sent } = recordingActivities();
  await runCase(env, code, { input: caseInput(), activities }, async (h) => {
    const r = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'sam' }] });
    expect(r.case.stage).toBe('investigate');
    await env.sleep('2h');
    const c = await caseWhen(h, (c) => c.breaches.length > 0 && allDelivered(c));
    console.log(JSON.stringify(c.breaches), sent.length, c.timeline.map((t) => t.summary));
  });
});
