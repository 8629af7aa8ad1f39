/**
 * Which stage allows which action: the one table the state machine enforces, the case view shows
 * (`playbook.actions`) and the API documents (its 409s).
 */
import type { ActionType, Stage } from './state';

const OPEN: readonly Stage[] = ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery'];

export const ACTION_STAGES: Readonly<Record<ActionType, readonly Stage[]>> = {
  acknowledge: ['acknowledge'],
  note: OPEN,
  update: ['investigate', 'communicate'],
  severity: ['acknowledge', 'investigate', 'communicate', 'resolve'],
  internal_escalation: OPEN,
  resolve: ['investigate', 'communicate'],
  confirmation: ['resolve'],
  complete_task: ['follow_up', 'recovery'],
  csat: ['follow_up', 'recovery'],
  outcome: OPEN,
  close: OPEN,
  pause: ['investigate', 'communicate'],
  // A pause holds only in these stages: resolving or closing ends it.
  resume: ['investigate', 'communicate'],
  reply: OPEN,
};

/** Task kinds narrow `complete_task`: the follow-up belongs to its own stage. */
export const TASK_STAGES: Readonly<Record<string, readonly Stage[]>> = {
  follow_up: ['follow_up'],
};

/** The actions a case in `stage` allows, in the table's order. */
export function actionsAllowed(stage: Stage): ActionType[] {
  return (Object.keys(ACTION_STAGES) as ActionType[]).filter((a) => ACTION_STAGES[a].includes(stage));
}
