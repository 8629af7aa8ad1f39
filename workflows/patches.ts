/**
 * Every change made to the workflow's logic while cases were running, and the gates that say whether a
 * case runs it: a patch is built in at the case's rules version or marked by `patched()`; a change that
 * came with a rules version runs in the cases opened at that version or later.
 */
import { patched } from '@temporalio/workflow';

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
export type Patch = (typeof PATCHES)[keyof typeof PATCHES];

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

/** Whether a case of these rules runs the patch without asking; else `patched()` decides (and marks it). */
export function builtIn(rules: number, patch: Patch): boolean {
  return (rules >= 3 && BUILT_IN_AT_RULES_3.has(patch)) || (rules >= 5 && BUILT_IN_AT_RULES_5.has(patch));
}

/** Asks whether the running case takes a patch. Called only where the patched branch would run. */
export type PatchGate = (patch: Patch) => boolean;

/** The gate of a case whose rules version `rules()` reads. */
export function patchGate(rules: () => number): PatchGate {
  return (patch) => builtIn(rules(), patch) || patched(patch);
}

/** Changes to how the workflow sends that came with a rules version (playbook/state.ts describes each version). */
export const SINCE_RULES = {
  /** A step's messages are tried once, together, in a local activity inside the step's workflow task. */
  stepTry: 5,
  /**
   * A customer's emails go as activities, never in the step's local try: a worker that dies after the
   * mail server took one and before its step's workflow task completed would have it sent again.
   */
  customerEmailsAlone: 6,
  /** The case's changes are numbered as webhook events and handed to the endpoints' streams (workflows/webhooks.ts). */
  webhooks: 7,
  /**
   * The loop acts on the clock only in a workflow task that history gives a cause: the case's timer
   * fired, or an action came. A wake-up already due waits for its timer (armed for 1 ms when already
   * due), not for whatever next wakes the loop: a local activity's result can reach the workflow in a
   * later task than the one that records it, at another workflow time than it has on replay
   * (test/workflow/clock-causes.test.ts). And a fired timer's step runs at no earlier than the moment
   * it was set for, though that result set the clock back (test/histories/found/README.md).
   */
  clockOnCause: 8,
} as const;

/** Whether a case of these rules runs a change that came with a rules version. */
export function since(rules: number, change: keyof typeof SINCE_RULES): boolean {
  return rules >= SINCE_RULES[change];
}
