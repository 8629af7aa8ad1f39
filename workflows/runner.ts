/**
 * One case while its workflow runs: its state, the handlers that act on it, its clock, and what it
 * asked to send. The workflow function (escalation.ts) is the loop over this class.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  CANCELLED_IN_TEMPORAL,
  PlaybookError,
  act,
  actionSummary,
  caseView,
  closeFromOutside,
  nextWake,
  openCase,
  rulesOf,
  tick,
  validate,
  type Action,
  type CaseState,
  type CaseView,
  type Outbound,
  type Transition,
} from '../playbook';
import { ACTION_UPDATES, getCaseQuery, openingOf, type EscalationInput } from './messages';
import { checkAction } from './validation';
import { FAILURE_TYPES } from './escalation-failures';
import { PATCHES, patchGate, since, type PatchGate } from './patches';
import { Outbox, type OutboxHost } from './outbox';
import { Publisher } from './publisher';
import { DeadlineTimer } from './deadline-timer';
import { workflowSends } from './sends';
import { WebhookQueue } from './webhooks';

/**
 * Continue-as-new well inside Temporal's limits (50k events / 50 MB of history, 2,000 updates per
 * run), besides whenever Temporal suggests it. Cases of rules 2 and later.
 */
export const RUN_BUDGET = { events: 4_000, bytes: 4 * 1024 * 1024, updates: 150 } as const;

export class CaseRunner implements OutboxHost {
  state: CaseState;
  /** Whether the case runs a patch: one gate for the loop, the outbox, the timer and the publisher. */
  readonly has: PatchGate;
  /** Bumped by every change: the loop wakes when it moves. */
  private version = 0;
  private updatesThisRun = 0;
  /** What the last transitions asked to send, not yet handed to the outbox. */
  private readonly pending: Outbound[];
  private readonly outbox: Outbox;
  private readonly publisher: Publisher;
  private readonly timer: DeadlineTimer;
  /** The case's webhook events, numbered and handed on (rules 7). */
  private readonly webhooks = new WebhookQueue(() => this.poke());

  constructor(private readonly params: EscalationInput) {
    const opened = params.carried ? undefined : openCase(openingOf(params));
    this.state = params.carried ?? opened!.state;
    this.pending = [...(opened?.effects ?? [])];
    this.has = patchGate(() => rulesOf(this.state));
    if (opened && since(rulesOf(this.state), 'webhooks')) this.state = this.webhooks.record(undefined, this.state, [], Date.parse(this.state.openedAt));
    this.outbox = new Outbox(this, workflowSends, this.has);
    this.timer = new DeadlineTimer(this.has);
    this.publisher = new Publisher(
      {
        current: () => workflowInfo().typedSearchAttributes,
        upsert: (changed) => upsertSearchAttributes(changed),
        details: (text) => setCurrentDetails(text),
        refreshPanel: () => this.outbox.refreshPanel(),
      },
      this.has,
    );
  }

  commit(t: Transition): void {
    const before = this.state;
    this.state = since(rulesOf(t.state), 'webhooks') ? this.webhooks.record(before, t.state, t.effects, Date.now()) : t.state;
    this.pending.push(...t.effects);
    this.version++;
  }

  poke(): void {
    this.version++;
  }

  /** The updates (each checked by the API's own schema and the stage table) and the query. */
  listen(): void {
    for (const [type, update] of Object.entries(ACTION_UPDATES) as [Action['type'], (typeof ACTION_UPDATES)[Action['type']]][]) {
      setHandler(update, (args: object) => this.apply(type, args), { validator: (args: object) => this.check(type, args) });
    }
    setHandler(getCaseQuery, () => caseView(this.state));
  }

  get closed(): boolean {
    return this.state.status === 'closed';
  }

  view(): CaseView {
    return caseView(this.state);
  }

  /** The input of the next run: the whole case carried over. */
  carried(): EscalationInput {
    return { ...this.params, carried: this.state };
  }

  /** Hands what is pending to the outbox and shows the case as it is now. */
  flush(): void {
    const events = this.webhooks.take();
    // The step's events ride in its local try when no earlier hand-over is still on its way.
    const step = this.outbox.deliverStep(this.pending.splice(0), this.webhooks.quiet ? events : undefined);
    this.webhooks.handOver(this.state.id, events, step?.carried);
    this.publisher.publish(this.state);
  }

  /** Time for a new run: Temporal suggests it, or (rules 2) the run passed its budget. */
  runFull(): boolean {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || (this.params.historyLimit !== undefined && info.historyLength >= this.params.historyLimit)) return true;
    if (rulesOf(this.state) < 2) return false;
    return info.historyLength >= RUN_BUDGET.events || (info.historySize ?? 0) >= RUN_BUDGET.bytes || this.updatesThisRun >= RUN_BUDGET.updates;
  }

  /** Every handler and send is done and nothing waits to be sent: the run may end. */
  settled(): boolean {
    return allHandlersFinished() && this.outbox.idle && this.webhooks.idle && this.pending.length === 0;
  }

  /** Before PATCHES.continueKeepsClock: the clock stops while the sends finish. True when nothing was left to send. */
  async settleWithClockStopped(): Promise<boolean> {
    this.timer.cancel();
    await condition(() => allHandlersFinished() && this.outbox.idle && this.webhooks.idle);
    return this.pending.length === 0;
  }

  /**
   * Before rules 8: a wake-up already due (the loop was busy past it) is handled now, whatever woke
   * the loop. Since (SINCE_RULES.clockOnCause) its timer handles it: the loop may have been woken by
   * a local activity's result, which replay can deliver at another time.
   */
  catchUp(): boolean {
    if (since(rulesOf(this.state), 'clockOnCause')) return false;
    const wake = nextWake(this.state);
    if (!wake || wake.at > Date.now()) return false;
    this.commit(tick(this.state, Date.now()));
    return true;
  }

  /** Sleeps on one durable timer until the next deadline, an action, a send finishing, or a full run. */
  async waitForChange(): Promise<void> {
    this.timer.arm(nextWake(this.state));
    const seen = this.version;
    await condition(() => this.version !== seen || this.timer.fired || (this.runFull() && allHandlersFinished() && this.outbox.idle && this.webhooks.idle));
    if (this.timer.fired) this.commit(tick(this.state, this.firedAt()));
  }

  /**
   * The clock of a step its timer started. Since SINCE_RULES.clockOnCause, never before the moment the
   * timer was set for: the worker can hand a local activity's result over with a later task and set the
   * workflow's clock back to when that activity completed (sdk-core's `UpdateWFTime`), while replay
   * reads the task's own start; the timer having fired, what it was set for is due either way.
   */
  private firedAt(): number {
    const now = Date.now();
    return since(rulesOf(this.state), 'clockOnCause') ? Math.max(now, this.timer.at ?? now) : now;
  }

  /** Closed: no clock left; what closing asked for is still sent (PATCHES.deliverAfterClose). */
  async finish(): Promise<void> {
    this.timer.cancel();
    if (this.has(PATCHES.deliverAfterClose)) await this.drain();
    else await condition(() => allHandlersFinished() && this.outbox.idle);
  }

  /**
   * Cancelled from the Temporal UI or CLI: the case closes cleanly — reason, closedAt, search
   * attributes, no timer left — and its workflow then ends as cancelled.
   */
  async closeFromOutside(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      this.timer.cancel();
      this.commit(closeFromOutside(this.state, CANCELLED_IN_TEMPORAL, Date.now()));
      await this.drain();
    });
  }

  /** Sends what is pending and waits for every send in flight (which may produce more, e.g. a failure notice). */
  private async drain(): Promise<void> {
    for (;;) {
      this.flush();
      await condition(() => allHandlersFinished() && ((this.outbox.idle && this.webhooks.idle) || this.pending.length > 0));
      if (this.pending.length === 0 && this.outbox.idle && this.webhooks.idle) return;
    }
  }

  private apply(type: Action['type'], args: unknown) {
    const action = parseAction(type, args);
    try {
      const t = act(this.state, action, Date.now());
      this.commit(t);
      this.updatesThisRun++;
      return actionSummary(this.state, t.warnings);
    } catch (err) {
      return asFailure(err);
    }
  }

  private check(type: Action['type'], args: unknown): void {
    // A run that took its budget of actions takes no more: the next run will (the API tries again).
    // A refused update leaves no event, so a run's history holds RUN_BUDGET.updates at most.
    if (rulesOf(this.state) >= 2 && this.updatesThisRun >= RUN_BUDGET.updates) {
      throw ApplicationFailure.create({ type: FAILURE_TYPES.moving, message: 'The case is moving to a new run; try again', nonRetryable: true });
    }
    const action = parseAction(type, args);
    try {
      validate(this.state, action, Date.now());
    } catch (err) {
      asFailure(err);
    }
  }
}


function asFailure(err: unknown): never {
  if (err instanceof PlaybookError) {
    throw ApplicationFailure.create({ type: FAILURE_TYPES[err.code], message: err.message, details: [err.details ?? null], nonRetryable: true });
  }
  throw err;
}

/** The update's payload checked by the API's own schema: a client that skips the API gets the same 400. */
function parseAction(type: Action['type'], args: unknown): Action {
  const checked = checkAction(type, args);
  if (!checked.ok) {
    const { details } = checked;
    throw ApplicationFailure.create({
      type: FAILURE_TYPES.invalid,
      message: `Invalid ${type}: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
      details: [details],
      nonRetryable: true,
    });
  }
  return checked.action;
}
