/**
 * One escalation, from open to closed, as a thin loop over the playbook's state machine:
 * handlers apply actions, the loop sends what the machine asked for, keeps visibility current and
 * sleeps on one durable timer until the next deadline or the next action.
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
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { DeliveryResult, EscalationActivities } from '../activities/types';
import {
  PlaybookError,
  apply,
  caseDetails,
  caseView,
  messageCase,
  nextWake,
  openCase,
  recordDelivery,
  tick,
  validate,
  visibilityOf,
  type Action,
  type CaseState,
  type CaseView,
  type Outbound,
  type Transition,
} from '../playbook';
import { ACTION_UPDATES, SA, getCaseQuery, type EscalationInput } from './messages';
import { FAILURE_TYPES } from './escalation-failures';

const { sendEmail, postSlack } = proxyActivities<EscalationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});


/** Changes to workflow logic, each behind `patched()` so running cases replay as they ran. */
export const PATCHES = { timerSummary: 'timer-summary-follows-deadline' } as const;

function asFailure(err: unknown): never {
  if (err instanceof PlaybookError) {
    throw ApplicationFailure.create({ type: FAILURE_TYPES[err.code], message: err.message, details: [err.details ?? null], nonRetryable: true });
  }
  throw err;
}

export async function escalationWorkflow(params: EscalationInput): Promise<CaseView> {
  const opened = params.carried ? undefined : openCase({ id: params.caseId, input: params.input, policy: params.policy, now: Date.now() });
  let state: CaseState = params.carried ?? opened!.state;
  let version = 0;
  let inflight = 0;
  const pending: Outbound[] = [...(opened?.effects ?? [])];
  const commit = (t: Transition) => {
    state = t.state;
    pending.push(...t.effects);
    version++;
  };

  for (const [type, update] of Object.entries(ACTION_UPDATES)) {
    const action = (args: object) => ({ ...args, type }) as Action;
    setHandler(
      update,
      (args: object) => {
        try {
          const t = apply(state, action(args), Date.now());
          commit(t);
          return { case: caseView(state), warnings: t.warnings };
        } catch (err) {
          return asFailure(err);
        }
      },
      {
        validator: (args: object) => {
          try {
            validate(state, action(args), Date.now());
          } catch (err) {
            asFailure(err);
          }
        },
      },
    );
  }
  setHandler(getCaseQuery, () => caseView(state));

  // Slack posts go one after another: the first starts the case's thread, the rest reply in it.
  let slackChain: Promise<void> = Promise.resolve();
  const deliver = (m: Outbound) => {
    inflight++;
    const send = async (): Promise<DeliveryResult> => {
      const input = { caseId: state.id, message: m, case: messageCase(state), threadTs: state.slackThreadTs };
      return m.channel === 'email' ? sendEmail(input) : postSlack(input);
    };
    const record = async () => {
      try {
        const result = await send(); // awaited first: `state` must be read after the send completes
        commit(recordDelivery(state, { id: m.id, ...result }, Date.now()));
      } catch (err) {
        commit(recordDelivery(state, { id: m.id, status: 'failed', reason: failureReason(err) }, Date.now()));
      } finally {
        inflight--;
      }
    };
    if (m.channel === 'slack') slackChain = slackChain.then(record);
    else void record();
  };

  let published: Record<string, string> = {};
  const publish = () => {
    const values = visibilityOf(state);
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, key] of Object.entries(SA)) {
      const value = values[name as keyof typeof values];
      const json = JSON.stringify(value);
      if (published[name] === json) continue;
      published = { ...published, [name]: json };
      changed.push({ key, value: value === null || (Array.isArray(value) && value.length === 0) ? null : value } as SearchAttributeUpdatePair);
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(caseDetails(state));
  };

  // One durable timer at a time, replaced only when the next wake-up time changes.
  let timer: { at: number; summary: string; fired: boolean; scope: CancellationScope } | undefined;
  const arm = (wake: { at: number; summary: string } | null) => {
    // Since PATCHES.timerSummary, a timer whose deadline changed at the same moment (a critical case's
    // acknowledge → respond) is replaced too, so its summary in the UI names the deadline it guards.
    const same = timer && wake && timer.at === wake.at && (timer.summary === wake.summary || !patched(PATCHES.timerSummary));
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

  for (;;) {
    pending.splice(0).forEach(deliver);
    publish();
    if (state.status === 'closed') break;
    const info = workflowInfo();
    if (info.continueAsNewSuggested || (params.historyLimit !== undefined && info.historyLength >= params.historyLimit)) {
      timer?.scope.cancel();
      timer = undefined;
      await condition(() => allHandlersFinished() && inflight === 0);
      if (pending.length === 0) {
        await continueAsNew<typeof escalationWorkflow>({ ...params, carried: state });
      }
      continue;
    }
    const wake = nextWake(state);
    if (wake && wake.at <= Date.now()) {
      commit(tick(state, Date.now()));
      continue;
    }
    arm(wake);
    const seen = version;
    await condition(() => version !== seen || timer?.fired === true);
    if (timer?.fired) commit(tick(state, Date.now()));
  }
  timer?.scope.cancel();
  await condition(() => allHandlersFinished() && inflight === 0);
  return caseView(state);
}

function failureReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
