import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { recordingActivities, runCase, timeSkippingSuite } from '../helpers/workflow-harness';
import { SCENARIOS } from './scenarios';

const suite = timeSkippingSuite();

// A saved history is evidence of how older code ran: it is kept unless RERECORD=1 says otherwise.
const missing = SCENARIOS.filter((s) => process.env.RERECORD === '1' || !existsSync(join(__dirname, `${s.name}.json`)));

test(`${missing.length} of ${SCENARIOS.length} scenarios to record`, () => {
  expect(SCENARIOS.length).toBeGreaterThan(0);
});

const record = missing.length > 0 ? test.each(missing.map((s) => [s.name, s] as const)) : () => undefined;
record('record %s', async (name, scenario) => {
  const { activities: recording } = recordingActivities();
  const activities = scenario.slackOff
    ? { ...recording, postSlack: async () => ({ status: 'skipped' as const, to: [], reason: 'Slack is off (no SLACK_BOT_TOKEN)', off: true }) }
    : recording;
  await runCase(suite.env, suite.code, { input: scenario.input, activities, caseId: `replay-${name}`, historyLimit: scenario.historyLimit, ...(scenario.rulesVersion ? { rulesVersion: scenario.rulesVersion } : {}), ...(scenario.calendar ? { calendar: scenario.calendar } : {}), ...(scenario.team ? { team: scenario.team } : {}) }, async (h) => {
    await scenario.play(h, suite.env);
    await h.result().catch(() => undefined); // a cancelled case ends as cancelled
    // The first run: where a case continues-as-new, its decision to do so is what replay must check.
    const history = await suite.env.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, bytes: String, defaults: false });
    writeFileSync(join(__dirname, `${name}.json`), JSON.stringify(json));
  });
});
