import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { timeSkippingEnv } from '../helpers/temporal';
import { bundle, recordingActivities, runCase } from '../helpers/workflow-harness';
import { SCENARIOS } from './scenarios';

let env: TestWorkflowEnvironment;
let code: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, code] = await Promise.all([timeSkippingEnv(), bundle()]);
}, 120_000);
afterAll(() => env?.teardown());

test.each(SCENARIOS.map((s) => [s.name, s] as const))('record %s', async (name, scenario) => {
  const { activities } = recordingActivities();
  await runCase(env, code, { input: scenario.input, activities, caseId: `replay-${name}` }, async (h) => {
    await scenario.play(h, env);
    await h.result();
    const history = await h.fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, bytes: String, defaults: false });
    writeFileSync(join(__dirname, `${name}.json`), JSON.stringify(json));
  });
});
