import type { MessageCase, Outbound } from '../playbook';

export interface DeliverInput {
  caseId: string;
  message: Outbound;
  case: MessageCase;
  /** Slack only: the case's thread, once it has one. */
  threadTs?: string | null;
  /**
   * Slack only: an earlier try may have posted (a local try, or one whose worker died), so the post
   * looks for itself by its metadata before posting. Retried attempts always look.
   */
  lookFirst?: boolean;
}

export interface DeliveryResult {
  status: 'sent' | 'skipped';
  /** The people it went to, resolved from the roster at send time. */
  to: string[];
  subject?: string;
  /** Slack only: the thread the post went to (the first post of a case starts it). */
  threadTs?: string;
  reason?: string;
  /** Slack only: skipped because the worker has Slack turned off (no token or channel). */
  off?: boolean;
  /** Email only: recipients the mail server refused while it took the others. */
  rejected?: { address: string; reason: string }[];
}

/** The workflow's activities. Workflow code imports this type only. */
export interface PanelInput {
  caseId: string;
  case: MessageCase;
  /** The case's root post. */
  threadTs: string;
}

export interface EscalationActivities {
  sendEmail(input: DeliverInput): Promise<DeliveryResult>;
  postSlack(input: DeliverInput): Promise<DeliveryResult>;
  /** Updates the root post's panel in place (stage, next deadline, buttons). */
  refreshPanel(input: PanelInput): Promise<void>;
}

/** Failure types the activities throw for faults that retrying cannot fix. */
export const PERMANENT_FAILURE = 'PermanentDeliveryFailure';
