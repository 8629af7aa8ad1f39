/**
 * `npm run replay:file -- <history.json> [lastEventId]`: replays one saved history (the JSON that
 * test/histories holds, or `temporal workflow show -o json` converted by the proto's fromObject) against
 * the working tree's workflow code, up to an event if given, and says whether it replays. For a case
 * that failed in the field: reproduce it here before changing the workflow.
 */
import { readFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOW_SOURCE } from '../worker/workflow-source';

async function main() {
  const [file, last] = process.argv.slice(2);
  if (!file) throw new Error('usage: npm run replay:file -- <history.json> [lastEventId]');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { events: { eventId: string | number }[] };
  if (last !== undefined) raw.events = raw.events.filter((e) => Number(e.eventId) <= Number(last));
  const history = temporal.api.history.v1.History.fromObject(raw);
  try {
    await Worker.runReplayHistory(WORKFLOW_SOURCE, history, `replay-${file}`);
    process.stdout.write(`${file}: replays (${raw.events.length} events)\n`);
  } catch (err) {
    process.stdout.write(`${file}: does not replay: ${String(err)}\n`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(String(err));
  process.exit(2);
});
