/** How a case whose workflow ended outside the playbook (terminated, cancelled, failed) reads. */
import { temporal } from '@temporalio/proto';
import { CANCELLED_IN_TEMPORAL } from '../playbook';

/** How a workflow that ended outside the playbook reads on its case. */
export const ENDED: Record<string, string> = {
  TERMINATED: 'Terminated in Temporal',
  CANCELLED: CANCELLED_IN_TEMPORAL,
  CANCELED: CANCELLED_IN_TEMPORAL,
  FAILED: 'The workflow failed in Temporal',
  TIMED_OUT: 'The workflow timed out in Temporal',
};
export const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
export const COMPLETED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;
export const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(temporal.api.enums.v1.WorkflowExecutionStatus).map(([k, v]) => [v, k.replace('WORKFLOW_EXECUTION_STATUS_', '')]),
);

/** The close reason of a workflow that ended with this status (its name: TERMINATED, …). */
export function endedReason(statusName: string): string {
  return ENDED[statusName] ?? `Ended in Temporal (${statusName.toLowerCase()})`;
}
