/**
 * One escalation, from open to closed: a thin loop over the case's runner (workflows/runner.ts).
 * Handlers check the payload, let the clock catch up and apply the action; the loop hands what the
 * playbook asked for to the outbox, keeps visibility current and sleeps on one durable timer until the
 * next deadline or the next change, then continues as new or, once closed, drains what is left to send.
 */
import { continueAsNew, isCancellation } from '@temporalio/workflow';
import type { CaseView } from '../playbook';
import type { EscalationInput } from './messages';
import { PATCHES } from './patches';
import { CaseRunner } from './runner';

export { PATCHES } from './patches';
export { RUN_BUDGET } from './runner';
export { QUICK_SEND_BOUND, SLACK_ROOT_BOUND } from './sends';

export async function escalationWorkflow(params: EscalationInput): Promise<CaseView> {
  const run = new CaseRunner(params);
  run.listen();
  try {
    for (;;) {
      run.flush();
      if (run.closed) break;
      if (run.runFull()) {
        if (run.has(PATCHES.continueKeepsClock)) {
          // Only once every handler and send is done; until then the loop goes on, the timer armed.
          if (run.settled()) await continueAsNew<typeof escalationWorkflow>(run.carried());
        } else {
          if (await run.settleWithClockStopped()) await continueAsNew<typeof escalationWorkflow>(run.carried());
          continue;
        }
      }
      if (run.catchUp()) continue;
      await run.waitForChange();
    }
    await run.finish();
    return run.view();
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await run.closeFromOutside();
    throw err;
  }
}
