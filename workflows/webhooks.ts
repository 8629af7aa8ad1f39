/**
 * Outbound webhooks in Temporal: the case's side (its numbered events handed on in order, by one local
 * activity per step), each endpoint's stream of one case's deliveries (a workflow of its own: its
 * attempts, retries on the specification's schedule and record, so a failing endpoint never slows a
 * case's clocks, its messages or another endpoint), and each endpoint's switch (410 disables it until
 * its config changes).
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AttemptResult, QueuedEvent, WebhookActivities, WebhookAttempt } from '../activities/types';
import { caseEvents, nextAttemptIn, teamOf, webhookBody, webhookCase, type CaseState, type Outbound, type WebhookEventType } from '../playbook';
import { WEBHOOK_TAGS, deliveryIdFor, webhookTags } from './webhook-names';

export { WEBHOOK_TAGS, deliveryIdFor, endpointWorkflowId, parseDeliveryId, streamWorkflowId, webhookTags } from './webhook-names';

/** The case's side: numbers what each change made and hands it on, one call after another. */
export class WebhookQueue {
  private chain: Promise<void> = Promise.resolve();
  private inflight = 0;
  private readonly made: QueuedEvent[] = [];

  constructor(private readonly poke: () => void) {}

  /** Nothing made waits to be handed on, and no hand-over is in flight. */
  get idle(): boolean {
    return this.inflight === 0 && this.made.length === 0;
  }

  /** The events of one change (before → after), numbered from the case's last; returns the case with its new number. */
  record(before: CaseState | undefined, after: CaseState, effects: readonly Outbound[], now: number): CaseState {
    const made = caseEvents(before, after, effects);
    if (made.length === 0) return after;
    let seq = before?.eventSeq ?? after.eventSeq ?? 0;
    const kase = webhookCase(after);
    const timestamp = new Date(now).toISOString();
    for (const e of made) {
      seq++;
      const body = JSON.stringify(webhookBody({ type: e.type, sequence: seq, timestamp, case: kase, fields: e.fields }));
      this.made.push({ type: e.type, sequence: seq, team: teamOf(after), body });
    }
    return { ...after, eventSeq: seq };
  }

  /** The events made since the last hand-over (taken: the caller hands them on). */
  take(): QueuedEvent[] {
    return this.made.splice(0);
  }

  /** No hand-over in flight: a step's local try may carry the next events without overtaking an earlier one. */
  get quiet(): boolean {
    return this.inflight === 0;
  }

  /**
   * Hands events to the endpoints' streams, after every earlier hand-over: they arrive in order. `carried`:
   * the step's local try took them along (rules 7, one marker for both); when it did not hand them on,
   * they go in a local activity of their own.
   */
  handOver(caseId: string, events: QueuedEvent[], carried?: Promise<boolean>): void {
    if (events.length === 0) return;
    this.inflight++;
    const summary = `Webhooks: ${events.map((e) => `${e.type} #${e.sequence}`).join(', ')}`;
    this.chain = this.chain
      .then(async () => {
        if (carried && (await carried)) return;
        await CancellationScope.nonCancellable(() => queueing.queueWebhooks.executeWithOptions({ summary }, [{ caseId, events }]));
      })
      .then(
        () => undefined,
        (err) => log.error('webhook events could not be queued', { caseId, sequences: events.map((e) => e.sequence), error: String(err) }),
      )
      .finally(() => {
        this.inflight--;
        this.poke();
      });
  }
}

/** Queueing is a few signal-with-starts: a local activity (one marker), tried for a few minutes. */
const queueing = proxyLocalActivities<WebhookActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * One attempt is one try: the stream keeps the schedule. A worker lost mid-attempt stops heartbeating:
 * after 5 s the attempt counts as failed and the delivery goes on with the schedule's next wait.
 */
export const ATTEMPT_HEARTBEAT = '5s';
const attempts = proxyActivities<WebhookActivities>({ startToCloseTimeout: '45s', heartbeatTimeout: ATTEMPT_HEARTBEAT, retry: { maximumAttempts: 1 } });
const endpoints = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'disabled';

/** One delivery as the stream keeps it. */
export interface StreamDelivery {
  id: string;
  type: WebhookEventType;
  sequence: number;
  body: string;
  status: DeliveryStatus;
  attempts: WebhookAttempt[];
  /** Attempts made before the current round of retries began (a retry asked for starts a new round). */
  round: number;
  /** When the next attempt goes (epoch ms), while pending. */
  nextAt: number | null;
}

/** A delivery as the list shows it. */
export interface DeliveryRecord {
  id: string;
  endpoint: string;
  type: WebhookEventType;
  caseId: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: WebhookAttempt[];
  nextAttemptAt: string | null;
}

export interface WebhookStreamInput {
  endpoint: string;
  caseId: string;
  carried?: { deliveries: StreamDelivery[]; floor: number };
  /** A new run once the history is this long (default STREAM_HISTORY; tests set it low). */
  historyLimit?: number;
}

export const webhookEventsSignal = defineSignal<[QueuedEvent[]]>('webhookEvents');
/** Sends a delivery again (a new round of the schedule); `delivery`: its record, when an earlier run of the stream held it. */
export const retryDeliverySignal = defineSignal<[{ id: string; delivery?: StreamDelivery }]>('retryWebhookDelivery');
export const deliveriesQuery = defineQuery<DeliveryRecord[]>('webhookDeliveries');
/** The deliveries with their bodies: what a retry of a delivery from an ended run carries into the new one. */
export const fullDeliveriesQuery = defineQuery<StreamDelivery[]>('webhookStreamFull');

/** A stream with nothing pending ends after this long without news (a later event starts a new run). */
export const STREAM_IDLE_MS = 7 * 24 * 3600e3;
/** Settled deliveries a stream keeps beyond these are dropped, oldest first (the list shows the rest). */
export const STREAM_KEEPS = 200;
/** Attempts a delivery keeps (the latest). */
export const ATTEMPTS_KEPT = 30;
/** A new run once the history is this long. */
const STREAM_HISTORY = 2_000;

/**
 * One endpoint's deliveries of one case: each event's first attempt in sequence order, one at a time
 * (an endpoint that answers at once sees them in order); a failed attempt is tried again on the schedule
 * while later events go on.
 */
export async function webhookStreamWorkflow(input: WebhookStreamInput): Promise<DeliveryRecord[]> {
  const { endpoint, caseId } = input;
  const deliveries = new Map<number, StreamDelivery>((input.carried?.deliveries ?? []).map((d) => [d.sequence, d]));
  let floor = input.carried?.floor ?? 0;
  let version = 0;
  let lastNews = Date.now();
  let tagged = '';

  const records = (): DeliveryRecord[] =>
    [...deliveries.values()]
      .sort((a, b) => a.sequence - b.sequence)
      .map((d) => ({ id: d.id, endpoint, type: d.type, caseId, sequence: d.sequence, status: d.status, attempts: d.attempts, nextAttemptAt: d.nextAt === null ? null : new Date(d.nextAt).toISOString() }));
  const publish = () => {
    const tags = webhookTags(endpoint, caseId, [...deliveries.values()].map((d) => d.status));
    if (tags.join() === tagged) return;
    tagged = tags.join();
    upsertSearchAttributes([{ key: WEBHOOK_TAGS, value: tags }]);
  };

  setHandler(webhookEventsSignal, (events) => {
    for (const e of events) {
      if (e.sequence <= floor || deliveries.has(e.sequence)) continue; // a hand-over tried again
      deliveries.set(e.sequence, { id: deliveryIdFor(endpoint, caseId, e.sequence), type: e.type, sequence: e.sequence, body: e.body, status: 'pending', attempts: [], round: 0, nextAt: Date.now() });
    }
    lastNews = Date.now();
    version++;
  });
  setHandler(retryDeliverySignal, ({ id, delivery }) => {
    let d = [...deliveries.values()].find((x) => x.id === id);
    if (!d && delivery && delivery.id === id) {
      d = { ...delivery };
      deliveries.set(d.sequence, d);
    }
    if (!d || d.status === 'pending') return;
    d.status = 'pending';
    d.round = d.attempts.length;
    d.nextAt = Date.now();
    lastNews = Date.now();
    version++;
  });
  setHandler(deliveriesQuery, records);
  setHandler(fullDeliveriesQuery, () => [...deliveries.values()]);

  for (;;) {
    publish();
    const pending = [...deliveries.values()].filter((d) => d.status === 'pending');
    const now = Date.now();
    const due = pending.filter((d) => d.nextAt! <= now).sort((a, b) => a.nextAt! - b.nextAt! || a.sequence - b.sequence)[0];
    if (due) {
      await attempt(due);
      continue;
    }
    if (workflowInfo().historyLength >= (input.historyLimit ?? STREAM_HISTORY) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof webhookStreamWorkflow>({ endpoint, caseId, carried: { deliveries: [...deliveries.values()], floor }, ...(input.historyLimit ? { historyLimit: input.historyLimit } : {}) });
    }
    if (pending.length === 0 && now - lastNews >= STREAM_IDLE_MS) return records();
    const wake = pending.length ? Math.min(...pending.map((d) => d.nextAt!)) : lastNews + STREAM_IDLE_MS;
    const seen = version;
    await condition(() => version !== seen, Math.max(1, wake - now));
  }

  async function attempt(d: StreamDelivery): Promise<void> {
    const started = Date.now();
    let r: AttemptResult;
    try {
      r = await attempts.attemptWebhook.executeWithOptions({ summary: `${d.type} #${d.sequence} to ${endpoint} (${d.id})` }, [{ endpoint, id: d.id, caseId, type: d.type, body: d.body }]);
    } catch (err) {
      r = { at: new Date(started).toISOString(), ms: Date.now() - started, error: `no answer from the attempt (${failureText(err)})`, verdict: 'retry' };
    }
    const { verdict, retryAfterMs, ...seen } = r;
    // When the attempt went, by the case's clock (the workflow's): the schedule is measured in it.
    d.attempts = [...d.attempts, { ...seen, at: new Date(started).toISOString() }].slice(-ATTEMPTS_KEPT);
    d.nextAt = null;
    if (verdict === 'delivered') d.status = 'delivered';
    else if (verdict === 'failed') d.status = 'failed';
    else if (verdict === 'disabled') d.status = 'disabled';
    else if (verdict === 'gone') {
      d.status = 'disabled';
      await endpoints.disableWebhookEndpoint({ endpoint, deliveryId: d.id, caseId }).catch((err) => log.error('could not disable the webhook endpoint', { endpoint, error: String(err) }));
    } else {
      const wait = nextAttemptIn(d.attempts.length - Math.min(d.round, d.attempts.length), retryAfterMs);
      if (wait === undefined) d.status = 'failed';
      else d.nextAt = Date.now() + wait;
    }
    prune();
    version++;
  }

  /** Keeps the stream bounded: the oldest settled deliveries beyond STREAM_KEEPS go. */
  function prune(): void {
    const settled = [...deliveries.values()].filter((d) => d.status !== 'pending').sort((a, b) => a.sequence - b.sequence);
    for (const d of settled.slice(0, Math.max(0, settled.length - STREAM_KEEPS))) {
      deliveries.delete(d.sequence);
      floor = Math.max(floor, d.sequence);
    }
  }
}

function failureText(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause ?? err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** An endpoint disabled by a 410, and for which config (its fingerprint): a changed config enables it again. */
export interface EndpointDisabled {
  fingerprint: string;
  url: string;
  at: string;
  deliveryId: string;
  caseId: string;
}
export const disableEndpointSignal = defineSignal<[EndpointDisabled]>('disableWebhookEndpoint');
export const endpointStateQuery = defineQuery<EndpointDisabled | null>('webhookEndpointState');

/** One endpoint's switch: disabled for the config it had when it answered 410; the admins told once per disabling. */
export async function webhookEndpointWorkflow(input: { endpoint: string; disabled?: EndpointDisabled | null }): Promise<void> {
  let disabled: EndpointDisabled | null = input.disabled ?? null;
  let notice: EndpointDisabled | null = null;
  setHandler(disableEndpointSignal, (d) => {
    if (disabled?.fingerprint === d.fingerprint) return;
    disabled = d;
    notice = d;
  });
  setHandler(endpointStateQuery, () => disabled);
  for (;;) {
    await condition(() => notice !== null || workflowInfo().continueAsNewSuggested);
    if (notice) {
      const n: EndpointDisabled = notice;
      notice = null;
      await endpoints
        .notifyWebhookDisabled({ endpoint: input.endpoint, url: n.url, deliveryId: n.deliveryId, caseId: n.caseId, at: n.at })
        .catch((err) => log.error('could not tell the admins of a disabled webhook endpoint', { endpoint: input.endpoint, error: String(err) }));
    }
    if (workflowInfo().historyLength >= STREAM_HISTORY || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof webhookEndpointWorkflow>({ endpoint: input.endpoint, disabled });
    }
  }
}
