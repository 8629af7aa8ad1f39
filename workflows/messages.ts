/**
 * The escalation workflow's public interface: its input, updates, query and search attributes.
 * The API imports this module and the payload schemas (workflows/schemas.ts), nothing else from workflows/.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type UpdateDefinition } from '@temporalio/common';
import { ACTIONS, ACTION_TYPES } from '../playbook';
import { WEBHOOK_TAGS } from './webhook-names';
import type { ActionArgs, ActionType, ActionSummary, Calendar, CaseInput, CaseState, CaseView, Limits, Policy, openCase } from '../playbook';

/** The workflow type; test/unit checks it names the exported workflow function. */
export const ESCALATION_WORKFLOW = 'escalationWorkflow' as const;
export { FAILURE_TYPES } from './escalation-failures';

export interface EscalationInput {
  caseId: string;
  input: CaseInput;
  policy: Policy;
  /** The rules the case runs by (RULES_VERSION at open); absent on cases opened before versions: 1. */
  rulesVersion?: number;
  /** What the case may hold; absent: the defaults. */
  limits?: Limits;
  /**
   * When the case was opened (ISO), given by the API so it can answer with the case as the workflow
   * will hold it without waiting for a worker. Absent: the workflow's first moment.
   */
  openedAt?: string;
  /** Rules 4: the calendar the case runs its business windows on (its whole definition), or absent for none. */
  calendar?: Calendar;
  /** The team the case belongs to (absent on cases opened before teams: `default`). */
  team?: string;
  /** Set only by continue-as-new: the whole case carried into the new run. */
  carried?: CaseState;
  /**
   * Continue-as-new once the history is this long, besides whenever Temporal suggests it. Unset in
   * production (Temporal's suggestion, at thousands of events, is the one that matters); tests set it low.
   */
  historyLimit?: number;
}

/** How a case opens: the same in the workflow and in the API that answers the open. */
export function openingOf(params: EscalationInput): Parameters<typeof openCase>[0] {
  const given = params.openedAt ? Date.parse(params.openedAt) : NaN;
  return {
    id: params.caseId,
    input: params.input,
    policy: params.policy,
    now: Number.isFinite(given) ? given : Date.now(),
    rulesVersion: params.rulesVersion,
    limits: params.limits,
    calendar: params.calendar ?? null,
    ...(params.team ? { team: params.team } : {}),
  };
}

/**
 * What every update answers: a compact summary of the case after the action, with any lint findings
 * it was flagged with. (Cases that ran older code answered `{ case: CaseView, warnings }`; the API
 * reads both.)
 */
export type ActionResult = ActionSummary;

type Updates = { readonly [T in ActionType]: UpdateDefinition<ActionResult, [ActionArgs<T>], string> };

/** Each action's update, named as the action registry says (playbook/registry.ts). */
export const ACTION_UPDATES: Updates = Object.fromEntries(ACTION_TYPES.map((t) => [t, defineUpdate(ACTIONS[t].update)])) as never;

export const getCaseQuery = defineQuery<CaseView>('getCase');

/** Search attributes, within the dev server's SQL visibility limits (10 Keyword, 3 of each other type: 9 Keyword, 2 KeywordList used). */
export const SA = {
  stage: defineSearchAttributeKey('EscalationStage', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('EscalationStatus', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('EscalationSeverity', SearchAttributeType.KEYWORD),
  category: defineSearchAttributeKey('EscalationCategory', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('EscalationCustomerId', SearchAttributeType.KEYWORD),
  segment: defineSearchAttributeKey('EscalationSegment', SearchAttributeType.KEYWORD),
  csm: defineSearchAttributeKey('EscalationCsm', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('EscalationOutcome', SearchAttributeType.KEYWORD),
  breached: defineSearchAttributeKey('EscalationBreached', SearchAttributeType.BOOL),
  breachKinds: defineSearchAttributeKey('EscalationBreachKinds', SearchAttributeType.KEYWORD_LIST),
  openedAt: defineSearchAttributeKey('EscalationOpenedAt', SearchAttributeType.DATETIME),
  nextDeadline: defineSearchAttributeKey('EscalationNextDeadline', SearchAttributeType.DATETIME),
  arr: defineSearchAttributeKey('EscalationArr', SearchAttributeType.DOUBLE),
  ackSeconds: defineSearchAttributeKey('EscalationAckSeconds', SearchAttributeType.INT),
  resolutionSeconds: defineSearchAttributeKey('EscalationResolutionSeconds', SearchAttributeType.INT),
  csat: defineSearchAttributeKey('EscalationCsat', SearchAttributeType.INT),
  paused: defineSearchAttributeKey('EscalationPaused', SearchAttributeType.BOOL),
  /** Seconds paused by pauses that ended (a double: the dev server keeps three ints, all taken). */
  pausedSeconds: defineSearchAttributeKey('EscalationPausedSeconds', SearchAttributeType.DOUBLE),
  /** The case's team (absent on cases opened before teams: `default`). */
  team: defineSearchAttributeKey('EscalationTeam', SearchAttributeType.KEYWORD),
  /** The teams that may read the case: its own and those it was transferred away from. */
  readers: defineSearchAttributeKey('EscalationReaders', SearchAttributeType.KEYWORD_LIST),
} as const;

/** Every search attribute the service registers: the cases' and the webhook streams' (workflows/webhook-names.ts). */
export const ALL_SEARCH_ATTRIBUTES = [...Object.values(SA), WEBHOOK_TAGS];
