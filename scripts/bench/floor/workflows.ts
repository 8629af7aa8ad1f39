/**
 * The monday part's floor (`npm run bench`): a bare workflow with the same two wakes as a case in the
 * burst, so the product's lateness is read beside what the same server and cores give Temporal alone.
 * Each wake is what a case's step costs Temporal at least: its timer fires, one workflow task runs, and
 * the next timer is set; at the second wake (the breach) it also upserts one search attribute, as a case
 * does. None of the product's work: no state, no sends, no local activity.
 */
import { defineQuery, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';

/** When each wake ran (workflow time, epoch ms). */
export const wokeQuery = defineQuery<number[]>('woke');

export async function mondayFloor(wakes: number[]): Promise<void> {
  const woke: number[] = [];
  setHandler(wokeQuery, () => woke);
  for (const [i, at] of wakes.entries()) {
    await sleep(Math.max(1, at - Date.now()));
    woke.push(Date.now());
    if (i === wakes.length - 1) upsertSearchAttributes({ EscalationBreached: [true] });
  }
  // As a case sets its reminder's timer after the breach.
  await sleep('30 days');
}
