import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { SCENARIOS } from '../histories/scenarios';
import { bundleInChildProcess } from '../../worker/bundle';

const dir = join(__dirname, '..', 'histories');
const saved = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('every recorded scenario has a saved history', () => {
  expect(saved.sort()).toEqual(SCENARIOS.map((s) => `${s.name}.json`).sort());
});

// The bundle a worker runs: made as createEscalationWorker makes it (worker/bundle.ts), once for every history.
let workflowBundle: { code: string };
beforeAll(async () => {
  workflowBundle = await bundleInChildProcess();
}, 120_000);

test.each(saved)('%s replays against today’s workflow code', async (file) => {
  const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  expect(history.events!.length).toBeGreaterThan(20);
  await Worker.runReplayHistory({ workflowBundle }, history, `escalation-replay-${file.replace(/\.json$/, '')}`);
});
