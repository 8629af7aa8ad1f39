import type { AttemptVerdict, MessageCase, Outbound, WebhookEventType } from '../playbook';

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
  /** Email only: sent, the server's answer never heard, not sent again (activities/send-mark.ts). */
  unconfirmed?: boolean;
}

export interface PanelInput {
  caseId: string;
  case: MessageCase;
  /** The case's root post. */
  threadTs: string;
}

/** Rules 5: what one step of a case asks for, tried once, locally, in one call. */
export interface StepInput {
  caseId: string;
  case: MessageCase;
  /** The case's thread, once it has one; else the step's first Slack post starts it. */
  threadTs?: string | null;
  messages: Outbound[];
  /** Also bring the root post's panel up to date, after the posts. */
  panel?: boolean;
  /** Rules 7: the step's webhook events, handed to the endpoints' streams beside the sends. */
  webhooks?: QueuedEvent[];
}

/** One message's outcome in a step: sent or skipped, failed, or not tried (its thread's first post failed). */
export type StepOutcome =
  | { result: DeliveryResult }
  | { failure: { message: string; permanent: boolean; retryAfterMs?: number } }
  | { untried: string };

export interface StepResult {
  /** In the order of the step's messages. */
  outcomes: StepOutcome[];
  panel?: 'updated' | 'failed';
  /** Whether the step's webhook events were handed on (`failed`: the workflow hands them on itself). */
  webhooks?: 'queued' | 'failed';
}

/** The sends themselves; `withStepTries` (activities/index.ts) adds the step's local try made of them. */
export interface SendActivities {
  sendEmail(input: DeliverInput): Promise<DeliveryResult>;
  postSlack(input: DeliverInput): Promise<DeliveryResult>;
  /** Updates the root post's panel in place (stage, next deadline, buttons). */
  refreshPanel(input: PanelInput): Promise<void>;
}

/** The workflow's activities. Workflow code imports this type only. */
export interface EscalationActivities extends SendActivities {
  /**
   * Rules 5: a step's messages (and its panel) tried once, as one local activity: emails side by side;
   * the thread's first post, then the replies side by side. It never throws for a message: each has
   * its outcome, and the workflow sends what failed again as the activities above.
   */
  tryStep(input: StepInput): Promise<StepResult>;
}

/** One event of a case for the endpoints that want it (playbook/webhooks.ts). */
export interface QueuedEvent {
  type: WebhookEventType;
  sequence: number;
  team: string;
  /** The delivery's body, fixed when the case changed: every attempt sends these bytes. */
  body: string;
}

/** A delivery's attempt as the list shows it. */
export interface WebhookAttempt {
  at: string;
  status?: number;
  error?: string;
  ms: number;
}

/** What one attempt came to. */
export interface AttemptResult extends WebhookAttempt {
  verdict: AttemptVerdict | 'disabled';
  retryAfterMs?: number;
}

export interface AttemptInput {
  endpoint: string;
  /** The `webhook-id`: the same on every attempt. */
  id: string;
  caseId: string;
  type: WebhookEventType;
  body: string;
}

/** The webhooks' activities: queueing a case's events, one attempt of a delivery, an endpoint that said 410. */
export interface WebhookActivities {
  /** Hands a case's events to the stream of each endpoint that wants them (signal-with-start); returns how many streams. */
  queueWebhooks(input: { caseId: string; events: QueuedEvent[] }): Promise<number>;
  /** One attempt: signed, POSTed, timed out after 15 s; never throws for the receiver's answer. */
  attemptWebhook(input: AttemptInput): Promise<AttemptResult>;
  /** The endpoint answered 410: disabled until its config changes, and the admins told (once). */
  disableWebhookEndpoint(input: { endpoint: string; deliveryId: string; caseId: string }): Promise<void>;
  /** Tells the admins an endpoint was disabled (by email). */
  notifyWebhookDisabled(input: { endpoint: string; url: string; deliveryId: string; caseId: string; at: string }): Promise<void>;
}

/** Failure types the activities throw for faults that retrying cannot fix. */
export const PERMANENT_FAILURE = 'PermanentDeliveryFailure';
