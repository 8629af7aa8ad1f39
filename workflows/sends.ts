/**
 * How the workflow sends: the activity proxies with their timeouts and retries, as the outbox's port.
 * Each send starts when it is called (no await before the command), so the outbox's order of calls is
 * the order of the workflow's commands.
 */
import { CancellationScope, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { EscalationActivities } from '../activities/types';
import type { OutboxPort } from './outbox';

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

const BY_VIA = { email: senders.sendEmail, slack: senders.postSlack, slackRoot: slackRoot.postSlack } as const;

/** Sends are not cancelled with the case: what it asked for is delivered and recorded. */
export const workflowSends: OutboxPort = {
  send: (via, input, summary) => CancellationScope.nonCancellable(() => BY_VIA[via].executeWithOptions({ summary }, [input])),
  tryStep: (input, summary) => CancellationScope.nonCancellable(() => quick.tryStep.executeWithOptions({ summary }, [input])),
  refreshPanel: (input, summary) => CancellationScope.nonCancellable(() => panels.refreshPanel.executeWithOptions({ summary }, [input])),
  sleep: (ms) => sleep(ms),
  now: () => Date.now(),
};
