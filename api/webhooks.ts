/**
 * The webhook deliveries as admins see them: `GET /webhooks/deliveries` (every attempt, filtered by case,
 * endpoint and status) and `POST /webhooks/deliveries/{id}/retry`. The streams are listed from Temporal
 * visibility by their one tag attribute and read by query (a running stream) or result (one that ended).
 */
import type express from 'express';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { ENDPOINT_ID_PATTERN, type WebhooksConfig } from '../config/webhooks';
import { requireRole, type Principal } from './auth';
import { holds } from './access';
import { HttpError, wrap } from './errors';
import { badCursor, readCursor, writeCursor } from './cursors';
import { cursorParam, parseQuery } from './schemas';
import { temporalsTrouble } from './errors';
import { WEBHOOK_CASE_ID, WEBHOOK_STREAM_WORKFLOW, WEBHOOK_TAGS, parseDeliveryId, streamWorkflowId } from '../workflows/webhook-names';
import type { DeliveryRecord, StreamDelivery } from '../workflows/webhooks';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'disabled'] as const;

export const deliveriesQuerySchema = z
  .object({
    caseId: z.string().regex(new RegExp(`^${WEBHOOK_CASE_ID}$`), 'a case id').optional(),
    endpoint: z.string().regex(ENDPOINT_ID_PATTERN, 'an endpoint id').optional(),
    status: z.enum(DELIVERY_STATUSES).optional(),
    cursor: cursorParam.optional(),
  })
  .strict();
export type DeliveriesQuery = z.infer<typeof deliveriesQuerySchema>;

const attemptSchema = z.object({ at: z.string(), status: z.number().int().optional(), error: z.string().optional(), ms: z.number() });
/** A delivery as the list shows it (workflows/webhooks.ts, DeliveryRecord). */
export const deliverySchema = z
  .object({
    id: z.string(),
    endpoint: z.string(),
    type: z.string(),
    caseId: z.string(),
    sequence: z.number().int(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.array(attemptSchema),
    nextAttemptAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

/** Streams read for one page (each holds one case's deliveries to one endpoint). */
const STREAMS_PER_PAGE = 20;

export class WebhookDeliveries {
  constructor(
    private readonly client: Client,
    readonly config: WebhooksConfig,
    private readonly teamIds: readonly string[],
    private readonly taskQueue: string,
  ) {}

  /** The endpoints a principal administers: admin in every team the endpoint serves. */
  endpointsOf(p: Principal): string[] {
    return this.config.endpoints.filter((e) => (e.teams ?? this.teamIds).every((t) => holds(p, t, 'admin'))).map((e) => e.id);
  }

  private allowedEndpoint(p: Principal, id: string, field: string): void {
    if (!this.config.endpoints.some((e) => e.id === id)) {
      throw new HttpError(400, 'invalid_input', `No webhook endpoint "${id}"`, [{ field, message: `not a configured endpoint (known: ${this.config.endpoints.map((e) => e.id).join(', ') || 'none'})` }]);
    }
    if (!this.endpointsOf(p).includes(id)) throw new HttpError(403, 'forbidden', `Endpoint ${id} needs the admin role in every team it serves`, [{ field, message: 'not an endpoint you administer' }]);
  }

  async list(p: Principal, q: DeliveriesQuery): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }> {
    if (q.endpoint) this.allowedEndpoint(p, q.endpoint, 'endpoint');
    const endpoints = q.endpoint ? [q.endpoint] : this.endpointsOf(p);
    if (endpoints.length === 0) return { items: [], nextCursor: null };
    const tag = (t: string) => `${WEBHOOK_TAGS.name} = '${t}'`;
    const query = [
      `WorkflowType = '${WEBHOOK_STREAM_WORKFLOW}'`,
      `(${endpoints.map((e) => tag(`endpoint:${e}`)).join(' OR ')})`,
      ...(q.caseId ? [tag(`case:${q.caseId}`)] : []),
    ].join(' AND ');
    let token: Buffer | undefined;
    if (q.cursor) token = readCursor(q.cursor, query);
    const page = await this.client.workflowService
      .listWorkflowExecutions({ namespace: this.client.options.namespace, query, pageSize: STREAMS_PER_PAGE, nextPageToken: token })
      .catch((err: { code?: number; message?: string }) => {
        if (token && err.code !== undefined && !temporalsTrouble(err.code)) throw badCursor(err.message ?? 'refused by Temporal');
        throw err;
      });
    // Visibility finds the streams; their own records decide the status (one written a moment ago may not be indexed yet).
    // The page's streams (at most STREAMS_PER_PAGE) read at once, listed in visibility's order.
    const streams = await Promise.all((page.executions ?? []).map((e) => this.readStream(e.execution?.workflowId ?? '', e.execution?.runId ?? undefined, e.status === 1)));
    const items = streams.flat().filter((r) => !q.status || r.status === q.status);
    const next = page.nextPageToken?.length ? writeCursor(Buffer.from(page.nextPageToken), query) : null;
    return { items, nextCursor: next };
  }

  /** A stream's deliveries: asked while it runs, its result once it ended (nothing when it failed). */
  private async readStream(workflowId: string, runId: string | undefined, running: boolean): Promise<DeliveryRecord[]> {
    // This run's own result: a run that continued as new answers none (its deliveries went on with it), never the next run's.
    const handle = this.client.workflow.getHandle(workflowId, runId, { followRuns: false });
    try {
      if (running) return await handle.query<DeliveryRecord[]>('webhookDeliveries');
      return (await handle.result()) as DeliveryRecord[];
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      // A run that continued as new holds no result of its own: its deliveries went with it.
      if ((err as Error).name === 'WorkflowContinuedAsNewError' || (err as Error).name === 'WorkflowFailedError') return [];
      throw err;
    }
  }

  /** Sends a delivery again with the same webhook-id (a new round of the schedule). */
  async retry(p: Principal, id: string): Promise<DeliveryRecord> {
    const parsed = parseDeliveryId(id);
    if (!parsed) throw new HttpError(404, 'not_found', `No delivery ${id}`);
    if (!this.config.endpoints.some((e) => e.id === parsed.endpoint) || !this.endpointsOf(p).includes(parsed.endpoint)) throw new HttpError(404, 'not_found', `No delivery ${id}`);
    const workflowId = streamWorkflowId(parsed.endpoint, parsed.caseId);
    // The delivery as its latest run knows it, or as an earlier run that ended kept it.
    const found = await this.find(workflowId, id);
    if (!found) throw new HttpError(404, 'not_found', `No delivery ${id}`);
    if (found.record.status === 'pending') throw new HttpError(409, 'conflict', `Delivery ${id} is pending: its next attempt is at ${found.record.nextAttemptAt}`);
    const signal = { id, ...(found.full ? { delivery: found.full } : {}) };
    await this.client.workflow.signalWithStart(WEBHOOK_STREAM_WORKFLOW, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [{ endpoint: parsed.endpoint, caseId: parsed.caseId }],
      signal: 'retryWebhookDelivery',
      signalArgs: [signal],
      typedSearchAttributes: [{ key: WEBHOOK_TAGS, value: [`endpoint:${parsed.endpoint}`, `case:${parsed.caseId}`, 'status:pending'] }],
    });
    return { ...found.record, status: 'pending', nextAttemptAt: new Date().toISOString() };
  }

  private async find(workflowId: string, id: string): Promise<{ record: DeliveryRecord; full?: StreamDelivery } | undefined> {
    const query = `WorkflowId = '${workflowId}'`;
    let token: Uint8Array | undefined;
    do {
      const page = await this.client.workflowService.listWorkflowExecutions({ namespace: this.client.options.namespace, query, pageSize: 50, nextPageToken: token })
      for (const e of (page.executions ?? []) as WorkflowExecutionInfo['raw'][]) {
        const running = e.status === 1;
        const records = await this.readStream(workflowId, e.execution?.runId ?? undefined, running);
        const record = records.find((r) => r.id === id);
        if (!record) continue;
        if (running) return { record };
        // An ended run: the new run needs the delivery itself (its body is in the run's last input or history).
        const full = await this.fullDelivery(workflowId, e.execution?.runId ?? undefined, id);
        return full ? { record, full } : undefined;
      }
      token = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (token);
    return undefined;
  }

  /** An ended run's delivery with its body: the stream answers its full records to this query. */
  private async fullDelivery(workflowId: string, runId: string | undefined, id: string): Promise<StreamDelivery | undefined> {
    try {
      const all = await this.client.workflow.getHandle(workflowId, runId).query<StreamDelivery[]>('webhookStreamFull');
      return all.find((d) => d.id === id);
    } catch {
      return undefined;
    }
  }
}

export function mountWebhooks(app: express.Express, deliveries: WebhookDeliveries | undefined): void {
  app.get('/webhooks/deliveries', requireRole('admin'), wrap(async (req, res) => {
    const q = parseQuery(deliveriesQuerySchema, req.query as Record<string, unknown>);
    if (!deliveries) return void res.json({ items: [], nextCursor: null });
    res.json(await deliveries.list(req.principal!, q));
  }));
  app.post('/webhooks/deliveries/:id/retry', requireRole('admin'), wrap(async (req, res) => {
    const id = String(req.params.id);
    if (!deliveries) throw new HttpError(404, 'not_found', `No delivery ${id}`);
    res.status(202).json(await deliveries.retry(req.principal!, id));
  }));
}
