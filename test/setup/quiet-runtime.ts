import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/**
 * The time-skipping test server predates heartbeat details on failure; the SDK says so once per
 * worker. True of that server only, and said in every workflow test: not worth a reader's attention.
 */
const KNOWN_NOISE = [/activity_failure_include_heartbeat/];
/**
 * Expected in the tests that cause them, and asserted there on the case: a workflow task completed (or
 * still buffered) after its test ended the workflow, and the failed attempts of sends the tests make fail.
 */
const EXPECTED = (entry: LogEntry) =>
  /Task not found when completing|leftover buffered tasks when evicting run/.test(entry.message) ||
  // Each failed attempt of a send the tests make fail (and assert on the case): the SDK says so per attempt.
  entry.message === 'Activity failed' ||
  // Workers made for replay or workflow-only tests.
  entry.message === 'No activities registered, not polling for activity tasks';

// Worker and bundler chatter at INFO drowns the test report; warnings and errors still show.
Runtime.install({
  logger: new DefaultLogger('WARN', (entry: LogEntry) => {
    if (KNOWN_NOISE.some((re) => re.test(entry.message)) || EXPECTED(entry)) return;
    const line = `${entry.level} ${entry.message}${entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta)}` : ''}`;
    process.stderr.write(`${line}\n`); // one plain line, not console's annotated block
  }),
  // The SDK core's own warnings go through the same logger (and its filter) instead of straight to stderr.
  telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
});
