/** One durable timer at a time for a case's next wake-up, replaced only when the wake-up changes. */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import { PATCHES, type PatchGate } from './patches';

export interface Wake {
  at: number;
  summary: string;
}

export class DeadlineTimer {
  private timer: { at: number; summary: string; fired: boolean; scope: CancellationScope } | undefined;

  constructor(private readonly has: PatchGate) {}

  /** The armed timer has fired (and was not replaced since). */
  get fired(): boolean {
    return this.timer?.fired === true;
  }

  /** The moment the armed timer was set for. */
  get at(): number | undefined {
    return this.timer?.at;
  }

  arm(wake: Wake | null): void {
    const timer = this.timer;
    // Since PATCHES.timerSummary, a timer whose deadline changed at the same moment (a critical case's
    // acknowledge → respond) is replaced too, so its summary in the UI names the deadline it guards.
    const same = timer && wake && timer.at === wake.at && (timer.summary === wake.summary || !this.has(PATCHES.timerSummary));
    if (same && !timer.fired) return;
    this.cancel();
    if (!wake) return;
    const armed = { at: wake.at, summary: wake.summary, fired: false, scope: new CancellationScope() };
    armed.scope
      .run(() => sleep(Math.max(1, wake.at - Date.now()), { summary: wake.summary }))
      .then(
        () => (armed.fired = true),
        (err) => {
          if (!isCancellation(err)) throw err;
        },
      );
    this.timer = armed;
  }

  cancel(): void {
    this.timer?.scope.cancel();
    this.timer = undefined;
  }
}
