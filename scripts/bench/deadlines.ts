/** `npm run bench`, parts burst and held: deadlines that fall together, and how late each breach is recorded. */
import { randomBytes } from 'node:crypto';
import { DEFAULT_POLICY, workflowIdFor } from '../../playbook';
import { getCaseQuery } from '../../workflows/messages';
import { type Bench, CONCURRENCY, at, measure, rssPeaks } from './harness';

/**
 * n cases whose acknowledge deadlines fall evenly over windowS seconds, the first `lead` seconds
 * after the first open (time to open them all and for the worker to take their opening steps).
 * Each case opens with its own policy (acknowledgeWithin reaching its deadline) and no reminders
 * after the breach: the deadlines alone. Lateness: when the workflow recorded the breach, after its due time.
 */
export async function deadlines(b: Bench, label: string, n: number, windowS: number): Promise<void> {
  const { client, taskQueue, pids, out, start, eachCase } = b;
const began = Date.now();
const lead = Math.max(30, Math.ceil(n / 25)) * 1000;
const t0 = began + lead;
const ids = Array.from({ length: n }, () => `bench-${label}-${randomBytes(6).toString('hex')}`);
const due = ids.map((_, i) => t0 + Math.round((i * windowS * 1000) / n));
const peaks = rssPeaks(pids);
await measure(n, CONCURRENCY, async (i) => {
  const openedAt = Date.now();
  await start(taskQueue, { caseId: ids[i], openedAt: new Date(openedAt).toISOString(), policy: { ...DEFAULT_POLICY, acknowledgeWithin: `${Math.max(1, due[i] - openedAt)}ms`, remindEvery: '24h' } });
});
const openedIn = (Date.now() - began) / 1000;
const late = Math.max(0, Date.now() - t0);
// Queries of one case while the deadlines fall: does a reader get an answer, and how fast?
const probe = ids[0];
const queries: number[] = [];
let failedQueries = 0;
const until = due[n - 1] + 5_000;
const querying = (async () => {
  while (Date.now() < until) {
    const t = performance.now();
    try {
      await client.connection.withDeadline(Date.now() + 10_000, () => client.workflow.getHandle(workflowIdFor(probe)).query(getCaseQuery));
      queries.push(performance.now() - t);
    } catch {
      failedQueries++;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
})();
// Read the breaches once the deadlines have passed (reading during the burst would add load of our own),
// each case until it has one.
await new Promise((r) => setTimeout(r, Math.max(0, due[n - 1] + 2_000 - Date.now())));
const breaches = await eachCase(ids, (v) => v.breaches.find((b) => b.kind === 'acknowledge'), 'acknowledge breach', Math.max(600_000, windowS * 2000));
await querying;
const lateness = breaches.map((b) => Date.parse(b.at) - Date.parse(b.dueAt)).sort((a, b) => a - b);
const lastBreach = Math.max(...breaches.map((b) => Date.parse(b.at)));
const drained = (lastBreach - due[n - 1]) / 1000;
queries.sort((a, b) => a - b);
const cpu = peaks.cpuBetween(t0, lastBreach);
out(
  `${label}: ${n} acknowledge deadlines over ${windowS} s (${(n / windowS).toFixed(1)}/s; opened in ${openedIn.toFixed(0)} s${late ? `, ${(late / 1000).toFixed(0)} s after the first deadline: raise the lead` : ''}): lateness p50 ${at(lateness, 50)} ms, p99 ${at(lateness, 99)} ms, max ${lateness.at(-1)} ms; drained ${drained.toFixed(1)} s after the last deadline; queries during it: ${queries.length} answered (slowest ${(queries.at(-1) ?? 0).toFixed(0)} ms), ${failedQueries} failed; peak RSS: ${peaks.stop()}; CPU from the first deadline to the last breach: ${cpu}`,
);
}
