import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { recordingActivities, runCase, timeSkippingSuite } from '../helpers/workflow-harness';
import { SCENARIOS } from './scenarios';

const suite = timeSkippingSuite();

test.each(SCENARIOS.map((s) => [s.name, s] as const))('record %s', async (name, scenario) => {
  const { activities } = recordingActivities();
  await runCase(suite.env, suite.code, { input: scenario.input, activities, caseId: `replay-${name}` }, async (h) => {
    await scenario.play(h, suite.env);
    await h.result();
    const history = await h.fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, bytes: String, defaults: false });
    writeFileSync(join(__dirname, `${name}.json`), JSON.stringify(json));
  });
});
