/**
 * One escalation, from open to closed, as a thin loop over the playbook's state machine:
 * handlers check the payload, let the clock catch up and apply the action; the loop sends what the
 * machine asked for, keeps visibility current and sleeps on one durable timer until the next deadline
 * or the next action.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  type ActivityFunctionWithOptions,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy, SearchAttributeUpdatePair } from '@temporalio/common';
import type { DeliverInput, DeliveryResult, EscalationActivities } from '../activities/types';
import {
  PlaybookError,
  act,
  actionSummary,
  caseDetails,
  caseView,
  closeFromOutside,
  messageCase,
  nextWake,
  openCase,
  panelKey,
  recordDelivery,
  rulesOf,
  tick,
  validate,
  visibilityOf,
  type Action,
  type CaseState,
  type CaseView,
  type Outbound,
  type Transition,
} from '../playbook';
import { ACTION_UPDATES, SA, getCaseQuery, openingOf, type EscalationInput } from './messages';
import { checkAction } from './validation';
import { FAILURE_TYPES } from './escalation-failures';

/**
 * Sends retry quickly: a worker that dies mid-send stops heartbeating and the send is tried again
 * within seconds (heartbeat 5 s), not after a minute.
 */
const RETRY: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 };
const senders = proxyActivities<EscalationActivities>({ startToCloseTimeout: '45s', heartbeatTimeout: '5s', retry: RETRY });
/**
 * The post that starts a case's Slack thread is bounded (2 minutes in all): posts that would reply in
 * that thread wait for it, so a failing first post holds them no longer than that.
 */
export const SLACK_ROOT_BOUND = '2 minutes';
const slackRoot = proxyActivities<EscalationActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: '5s',
  scheduleToCloseTimeout: SLACK_ROOT_BOUND,
  retry: { ...RETRY, maximumInterval: '20s' },
});

/** Changes to workflow logic, each behind `patched()` so running cases replay as they ran (see BUILT_IN_AT_RULES_3). */
export const PATCHES = {
  timerSummary: 'timer-summary-follows-deadline',
  /** Slack replies go out side by side once the thread exists; only the thread's first post is waited for. */
  slackReplies: 'slack-replies-do-not-queue',
  /** Continue-as-new keeps the timer armed while sends finish; nothing stalls a deadline. */
  continueKeepsClock: 'continue-as-new-keeps-clock',
  /** What closing (or a send finishing after it) produces is still sent. */
  deliverAfterClose: 'deliver-after-close',
  /**
   * The first publish upserts only what differs from the search attributes the run started with (the
   * API's start sets the opening's; a continued run inherits the last run's): no duplicate visibility write.
   */
  publishKnown: 'publish-only-what-changed-since-start',
  /** The case's root post in Slack is updated in place whenever what its panel shows changes. */
  slackPanel: 'slack-panel-follows-case',
  /** Slack off (the worker has no token or channel): posts are recorded as skipped without an activity for an hour. */
  slackOff: 'no-slack-activity-while-slack-is-off',
} as const;
type Patch = (typeof PATCHES)[keyof typeof PATCHES];
/**
 * Cases of rules 3 and later were opened by code with these: they run them without a marker (a marker
 * and a TemporalChangeVersion upsert per patch per case). A patch added later is not listed here: cases
 * of rules 3 already running need its `patched()`; the next rules version may absorb it the same way.
 */
const BUILT_IN_AT_RULES_3: ReadonlySet<Patch> = new Set([
  PATCHES.timerSummary,
  PATCHES.slackReplies,
  PATCHES.continueKeepsClock,
  PATCHES.deliverAfterClose,
  PATCHES.publishKnown,
]);
/** Cases of rules 5 and later run every patch above without a marker, the panel and Slack-off ones included. */
const BUILT_IN_AT_RULES_5: ReadonlySet<Patch> = new Set(Object.values(PATCHES));

/**
 * Updating the panel is one short call and best effort: a local activity (one marker in the history,
 * no task of its own), a few quick tries, then the next change tries again.
 */
const panels = proxyLocalActivities<EscalationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/**
 * Rules 5: a step's sends are tried first as one local activity (tryStep), run by the worker inside the
 * step's workflow task: one marker in the history instead of an activity's three events, and the
 * workflow task its result wakes, per message. It is tried once, within QUICK_SEND_BOUND, below the
 * workflow task's heartbeat (8 s): an action's answer waits for it no longer than that. What it could
 * not deliver for a reason a retry can fix goes on as the activities above, with their retries,
 * heartbeats and the Slack root's bound.
 */
export const QUICK_SEND_BOUND = '5s';
const quick = proxyLocalActivities<EscalationActivities>({ startToCloseTimeout: QUICK_SEND_BOUND, retry: { maximumAttempts: 1 } });

/**
 * Continue-as-new well inside Temporal's limits (50k events / 50 MB of history, 2,000 updates per
 * run), besides whenever Temporal suggests it. Cases of rules 2 and later.
 */
export const RUN_BUDGET = { events: 4_000, bytes: 4 * 1024 * 1024, updates: 150 } as const;

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

export async function escalationWorkflow(params: EscalationInput): Promise<CaseView> {
  const opened = params.carried ? undefined : openCase(openingOf(params));
  let state: CaseState = params.carried ?? opened!.state;
  const has = (patch: Patch) =>
    (rulesOf(state) >= 3 && BUILT_IN_AT_RULES_3.has(patch)) || (rulesOf(state) >= 5 && BUILT_IN_AT_RULES_5.has(patch)) || patched(patch);
  let version = 0;
  let inflight = 0;
  let updatesThisRun = 0;
  const pending: Outbound[] = [...(opened?.effects ?? [])];
  const commit = (t: Transition) => {
    state = t.state;
    pending.push(...t.effects);
    version++;
  };

  for (const [type, update] of Object.entries(ACTION_UPDATES) as [Action['type'], (typeof ACTION_UPDATES)[Action['type']]][]) {
    setHandler(
      update,
      (args: object) => {
        const action = parseAction(type, args);
        try {
          const t = act(state, action, Date.now());
          commit(t);
          updatesThisRun++;
          return actionSummary(state, t.warnings);
        } catch (err) {
          return asFailure(err);
        }
      },
      {
        validator: (args: object) => {
          const action = parseAction(type, args);
          try {
            validate(state, action, Date.now());
          } catch (err) {
            asFailure(err);
          }
        },
      },
    );
  }
  setHandler(getCaseQuery, () => caseView(state));

  // What the case's root post in Slack shows (panelKey), and whether an in-place update is under way.
  let panelShown: string | undefined;
  let panelBusy = false;
  const refreshPanel = () => {
    const ts = state.slackThreadTs;
    if (panelBusy || !ts) return;
    const kase = messageCase(state);
    const key = panelKey(kase);
    if (key === panelShown || !has(PATCHES.slackPanel)) return;
    panelBusy = true;
    inflight++;
    panelShown = key;
    const summary = `Slack panel: ${kase.status === 'closed' ? 'closed' : `${kase.stage}${kase.paused ? ', paused' : ''}`}`;
    void CancellationScope.nonCancellable(() => panels.refreshPanel.executeWithOptions({ summary }, [{ caseId: state.id, case: kase, threadTs: ts }]))
      .catch(() => undefined) // best effort: the thread has every change; the next change tries again
      .finally(() => {
        panelBusy = false;
        inflight--;
        version++; // look again: the case may have moved on while the post was being updated
      });
  };

  // When the worker said Slack is off, and until when posts skip the activity (PATCHES.slackOff).
  let slackOff: { until: number; reason: string } | undefined;

  /** Records what became of a send: the thread it started, Slack found off, the message's status. */
  const recordResult = (m: Outbound, result: DeliveryResult) => {
    if (m.channel === 'slack' && result.status === 'skipped' && result.off) slackOff = { until: Date.now() + 3_600_000, reason: result.reason ?? 'Slack is off' };
    commit(recordDelivery(state, { id: m.id, ...result }, Date.now()));
  };

  /**
   * Sends one message as an activity and records the result; `inflight` was counted when the case asked
   * for it (deliver, deliverStep). After a failed local try (rules 5), a Slack post looks for itself
   * first and Slack's Retry-After is waited out before the first attempt.
   */
  const record = async (m: Outbound, send: ActivityFunctionWithOptions<(input: DeliverInput) => Promise<DeliveryResult>>, after?: { retryAfterMs?: number }) => {
    try {
      if (m.channel === 'slack' && slackOff && slackOff.until > Date.now() && has(PATCHES.slackOff)) {
        commit(recordDelivery(state, { id: m.id, status: 'skipped', to: [], reason: slackOff.reason }, Date.now()));
        return;
      }
      if (after?.retryAfterMs) await sleep(Math.min(after.retryAfterMs, 3_600_000));
      const input: DeliverInput = { caseId: state.id, message: m, case: messageCase(state), threadTs: state.slackThreadTs, ...(after ? { lookFirst: true } : {}) };
      // The post that starts the thread shows the case as it is now: its panel needs no update until it changes.
      if (m.channel === 'slack' && !state.slackThreadTs) panelShown = panelKey(input.case);
      const summary = sendSummary(m);
      // Sends are not cancelled with the case: what it asked for is delivered and recorded.
      recordResult(m, await CancellationScope.nonCancellable(() => send.executeWithOptions({ summary }, [input]))); // `state` read after the send completes
    } catch (err) {
      commit(recordDelivery(state, { id: m.id, status: 'failed', reason: failureReason(err) }, Date.now()));
    } finally {
      inflight--;
    }
  };

  // Slack: the first post starts the case's thread, so posts wait for it; once the thread exists they
  // go out side by side and a failing one holds no other.
  let slackChain: Promise<void> = Promise.resolve();
  /** Rules 5: a step's local try is starting the thread; Slack posts of later steps queue behind it. */
  let rootInStep = false;
  const postBehindRoot = (m: Outbound, after?: { retryAfterMs?: number }) => {
    slackChain = slackChain.then(() => record(m, state.slackThreadTs ? senders.postSlack : slackRoot.postSlack, after));
  };
  /** One message as an activity; `after`: what its failed local try (rules 5) left to heed. */
  const deliver = (m: Outbound, after?: { retryAfterMs?: number }) => {
    // Counted now, not when a post queued behind the thread's first one starts: closing and
    // continue-as-new wait for every message asked for, queued ones included.
    inflight++;
    if (m.channel === 'email') return void record(m, senders.sendEmail, after);
    if (!has(PATCHES.slackReplies)) {
      slackChain = slackChain.then(() => record(m, senders.postSlack));
      return;
    }
    if (state.slackThreadTs) return void record(m, senders.postSlack, after);
    postBehindRoot(m, after);
  };

  /**
   * What one step asked for. Rules 5: the messages that can go now (and the panel, if what it shows
   * changed) are tried once in one local activity, inside the step's workflow task: one marker in the
   * history. Whatever that try could not deliver goes on as the activities, with their retries.
   * Earlier rules: one activity per message.
   */
  const deliverStep = (ms: Outbound[]) => {
    if (rulesOf(state) < 5) return ms.forEach((m) => deliver(m));
    const now: Outbound[] = [];
    for (const m of ms) {
      if (m.channel === 'slack' && ((slackOff && slackOff.until > Date.now()) || (!state.slackThreadTs && rootInStep))) deliver(m);
      else now.push(m);
    }
    if (now.length === 0) return;
    inflight += now.length;
    const threadTs = state.slackThreadTs;
    const kase = messageCase(state);
    const key = panelKey(kase);
    const startsThread = !threadTs && now.some((m) => m.channel === 'slack');
    const panel = !!threadTs && !panelBusy && key !== panelShown;
    // The post that starts the thread shows the case as it is now, as does a refreshed panel.
    if (startsThread || panel) panelShown = key;
    if (panel) panelBusy = true;
    rootInStep ||= startsThread;
    // Named in the Temporal UI as its sends are one by one: each message, by which channel, to whom.
    const summary = `${now.map(sendSummary).join('; ')}${panel ? '; Slack panel' : ''}`;
    const step = CancellationScope.nonCancellable(() =>
      quick.tryStep.executeWithOptions({ summary }, [{ caseId: state.id, case: kase, threadTs, messages: now, ...(panel ? { panel } : {}) }]),
    ).then(
      (r) => r,
      () => undefined, // the try timed out, or its worker failed: every message goes on as its activity
    );
    const done = step.then((r) => {
      if (startsThread) rootInStep = false;
      if (panel) panelBusy = false;
      version++; // look again: the case may have moved on during the try
      now.forEach((m, i) => {
        const o = r?.outcomes[i];
        if (o && 'result' in o) {
          recordResult(m, o.result);
          inflight--;
        } else if (o && 'failure' in o && o.failure.permanent) {
          commit(recordDelivery(state, { id: m.id, status: 'failed', reason: o.failure.message }, Date.now()));
          inflight--;
        } else {
          // A retry can fix it, or it was not tried: the activity (counted again there).
          inflight--;
          deliver(m, o && 'failure' in o ? { retryAfterMs: o.failure.retryAfterMs } : {});
        }
      });
    });
    // Posts of later steps that need the thread wait for this try to start it.
    if (startsThread) slackChain = slackChain.then(() => done);
  };
  /** How a value compares: unset, null and an empty list are all "no value" to Temporal. */
  const visible = (value: unknown) => JSON.stringify(value === undefined || (Array.isArray(value) && value.length === 0) ? null : value);
  let published: Record<string, string> = {};
  let seeded = false;
  let compare = (value: unknown) => JSON.stringify(value);
  const publish = () => {
    if (!seeded) {
      seeded = true;
      if (has(PATCHES.publishKnown)) {
        compare = visible;
        const current = workflowInfo().typedSearchAttributes;
        published = Object.fromEntries(Object.entries(SA).map(([name, key]) => [name, visible(current.get(key as never))]));
      }
    }
    const values = visibilityOf(state);
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, key] of Object.entries(SA)) {
      const value = values[name as keyof typeof values];
      const json = compare(value);
      if (published[name] === json) continue;
      published = { ...published, [name]: json };
      changed.push({ key, value: value === null || (Array.isArray(value) && value.length === 0) ? null : value } as SearchAttributeUpdatePair);
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(caseDetails(state));
    refreshPanel();
  };

  // One durable timer at a time, replaced only when the next wake-up time changes.
  let timer: { at: number; summary: string; fired: boolean; scope: CancellationScope } | undefined;
  const arm = (wake: { at: number; summary: string } | null) => {
    // Since PATCHES.timerSummary, a timer whose deadline changed at the same moment (a critical case's
    // acknowledge → respond) is replaced too, so its summary in the UI names the deadline it guards.
    const same = timer && wake && timer.at === wake.at && (timer.summary === wake.summary || !has(PATCHES.timerSummary));
    if (same && !timer!.fired) return;
    timer?.scope.cancel();
    timer = undefined;
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
    timer = armed;
  };

  const runFull = () => {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || (params.historyLimit !== undefined && info.historyLength >= params.historyLimit)) return true;
    if (rulesOf(state) < 2) return false;
    return info.historyLength >= RUN_BUDGET.events || (info.historySize ?? 0) >= RUN_BUDGET.bytes || updatesThisRun >= RUN_BUDGET.updates;
  };

  /** Sends what is pending and waits for every send in flight (which may produce more, e.g. a failure notice). */
  const drain = async () => {
    for (;;) {
      deliverStep(pending.splice(0));
      publish();
      await condition(() => allHandlersFinished() && (inflight === 0 || pending.length > 0));
      if (pending.length === 0 && inflight === 0) return;
    }
  };

  try {
    for (;;) {
      deliverStep(pending.splice(0));
      publish();
      if (state.status === 'closed') break;
      if (runFull()) {
        if (has(PATCHES.continueKeepsClock)) {
          // Only once every handler and send is done; until then the loop goes on, the timer armed.
          if (allHandlersFinished() && inflight === 0 && pending.length === 0) {
            await continueAsNew<typeof escalationWorkflow>({ ...params, carried: state });
          }
        } else {
          timer?.scope.cancel();
          timer = undefined;
          await condition(() => allHandlersFinished() && inflight === 0);
          if (pending.length === 0) await continueAsNew<typeof escalationWorkflow>({ ...params, carried: state });
          continue;
        }
      }
      const wake = nextWake(state);
      if (wake && wake.at <= Date.now()) {
        commit(tick(state, Date.now()));
        continue;
      }
      arm(wake);
      const seen = version;
      await condition(() => version !== seen || timer?.fired === true || (runFull() && allHandlersFinished() && inflight === 0));
      if (timer?.fired) commit(tick(state, Date.now()));
    }
    timer?.scope.cancel();
    if (has(PATCHES.deliverAfterClose)) await drain();
    else await condition(() => allHandlersFinished() && inflight === 0);
    return caseView(state);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled from the Temporal UI or CLI: the case closes cleanly — reason, closedAt, search
    // attributes, no timer left — and ends as cancelled in Temporal.
    await CancellationScope.nonCancellable(async () => {
      timer?.scope.cancel();
      commit(closeFromOutside(state, 'Cancelled in Temporal (UI or CLI)', Date.now()));
      await drain();
    });
    throw err;
  }
}

/** A send as the Temporal UI names it: which message, by which channel, to whom. */
function sendSummary(m: Outbound): string {
  return `${m.channel === 'email' ? 'Email' : 'Slack'} ${m.kind.replace(/_/g, ' ')} (${m.id}) to ${m.audience === 'customer' ? 'the customer' : m.to.join(', ')}`;
}

function failureReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
