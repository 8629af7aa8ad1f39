/**
 * The webhooks' activities: a case's events handed to each endpoint's stream, one attempt of a delivery
 * (signed with the Standard Webhooks library, POSTed with a 15 s limit, never to a private address unless
 * allowed), and an endpoint disabled by a 410 with its admins told.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { ATTEMPT_TIMEOUT_MS, endpointWants, retryAfterMs, verdictOf } from '../playbook';
import { endpointFingerprint, isPrivateAddress, privateTargetProblem, type WebhookEndpoint, type WebhooksConfig } from '../config/webhooks';
import type { Teams } from '../config/teams';
import type { Logger } from '../config/logger';
import type { Metrics } from '../config/metrics';
import {
  WEBHOOK_ENDPOINT_WORKFLOW,
  WEBHOOK_STREAM_WORKFLOW,
  WEBHOOK_TAGS,
  endpointWorkflowId,
  streamWorkflowId,
  webhookTags,
} from '../workflows/webhook-names';
import type { Mailer } from './email';
import type { AttemptInput, AttemptResult, WebhookActivities } from './types';

export interface WebhookDeps {
  config: WebhooksConfig;
  /** Whose support leads are told of a disabled endpoint when `config.notify` names nobody. */
  teams?: Teams;
  /** Tells of a disabled endpoint; absent: only the log does. */
  mailer?: Mailer;
  emailFrom?: string;
  logger?: Logger;
  metrics?: Pick<Metrics, 'webhookAttempts'>;
  /** The Temporal client; else the worker's (an activity's context). */
  client?: () => Client;
  /** How names are resolved (node's DNS lookup): every address it answers is checked before connecting. */
  resolve?: typeof dnsLookup;
}

/** The webhook activities of a worker with no endpoints: a case's events go nowhere. */
export function noWebhookActivities(): WebhookActivities {
  return createWebhookActivities({ config: { endpoints: [], allowPrivateTargets: false } });
}

/** How long an endpoint's disabled state is trusted before it is read again. */
const DISABLED_CACHE_MS = 2_000;
/** The most of an answer's body read (the rest is dropped). */
const ANSWER_BYTES = 64 * 1024;

export function createWebhookActivities(deps: WebhookDeps): WebhookActivities {
  const client = deps.client ?? (() => Context.current().client);
  const byId = new Map(deps.config.endpoints.map((e) => [e.id, e]));
  const disabledSeen = new Map<string, { at: number; fingerprint: string | null }>();

  /** The fingerprint an endpoint was disabled for, if it is (read from its switch, cached briefly). */
  async function disabledFingerprint(id: string): Promise<string | null> {
    const cached = disabledSeen.get(id);
    if (cached && Date.now() - cached.at < DISABLED_CACHE_MS) return cached.fingerprint;
    let fingerprint: string | null = null;
    try {
      const state = await client().workflow.getHandle(endpointWorkflowId(id)).query<{ fingerprint: string } | null>('webhookEndpointState');
      fingerprint = state?.fingerprint ?? null;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    disabledSeen.set(id, { at: Date.now(), fingerprint });
    return fingerprint;
  }

  return {
    async queueWebhooks({ caseId, events }) {
      let streams = 0;
      for (const e of deps.config.endpoints) {
        const wanted = events.filter((x) => endpointWants(e, x.type, x.team));
        if (wanted.length === 0) continue;
        await client().workflow.signalWithStart(WEBHOOK_STREAM_WORKFLOW, {
          workflowId: streamWorkflowId(e.id, caseId),
          taskQueue: Context.current().info.taskQueue,
          args: [{ endpoint: e.id, caseId }],
          signal: 'webhookEvents',
          signalArgs: [wanted],
          typedSearchAttributes: [{ key: WEBHOOK_TAGS, value: webhookTags(e.id, caseId, ['pending']) }],
          staticSummary: `Webhooks of case ${caseId} to ${e.id}`,
        });
        streams++;
      }
      return streams;
    },

    async attemptWebhook(input) {
      const started = Date.now();
      const at = new Date(started).toISOString();
      const e = byId.get(input.endpoint);
      const done = (r: AttemptResult): AttemptResult => {
        deps.metrics?.webhookAttempts.inc({ endpoint: input.endpoint, outcome: r.verdict });
        deps.logger?.info({ caseId: input.caseId, delivery: input.id, endpoint: input.endpoint, type: input.type, verdict: r.verdict, status: r.status, error: r.error, ms: r.ms }, 'webhook attempt');
        return r;
      };
      if (!e) return done({ at, ms: 0, error: `no endpoint "${input.endpoint}" in the config`, verdict: 'failed' });
      if ((await disabledFingerprint(e.id)) === endpointFingerprint(e)) return done({ at, ms: 0, error: 'the endpoint is disabled (it answered 410) until its config changes', verdict: 'disabled' });
      // Heartbeats while the request is out: a worker lost mid-attempt is seen within the heartbeat timeout (5 s).
      const beat = inActivity() ? setInterval(() => Context.current().heartbeat(), 1_000) : undefined;
      const sent = await post(e, input, deps.config.allowPrivateTargets, deps.resolve ?? dnsLookup).finally(() => clearInterval(beat));
      const verdict = sent.error && sent.status === undefined && sent.refused ? 'failed' : verdictOf(sent.status);
      return done({
        at,
        ms: Date.now() - started,
        ...(sent.status !== undefined ? { status: sent.status } : {}),
        ...(sent.error ? { error: sent.error } : {}),
        verdict,
        ...(sent.retryAfterMs !== undefined ? { retryAfterMs: sent.retryAfterMs } : {}),
      });
    },

    async disableWebhookEndpoint({ endpoint, deliveryId, caseId }) {
      const e = byId.get(endpoint);
      if (!e) return;
      const fingerprint = endpointFingerprint(e);
      disabledSeen.set(endpoint, { at: Date.now(), fingerprint });
      deps.logger?.error({ endpoint, url: e.url, delivery: deliveryId, caseId }, 'webhook endpoint answered 410: disabled until its config changes');
      await client().workflow.signalWithStart(WEBHOOK_ENDPOINT_WORKFLOW, {
        workflowId: endpointWorkflowId(endpoint),
        taskQueue: Context.current().info.taskQueue,
        args: [{ endpoint }],
        signal: 'disableWebhookEndpoint',
        signalArgs: [{ fingerprint, url: e.url, at: new Date().toISOString(), deliveryId, caseId }],
        staticSummary: `Webhook endpoint ${endpoint}: disabled while it answers 410`,
      });
    },

    async notifyWebhookDisabled({ endpoint, url, deliveryId, caseId, at }) {
      const teams = deps.teams;
      const to = deps.config.notify ?? (teams ? [...new Set(teams.ids.map((t) => teams.get(t).roster.supportLead?.email).filter((x): x is string => !!x))] : []);
      const emailFrom = deps.emailFrom ?? 'escalations@localhost';
      if (to.length === 0 || !deps.mailer) return;
      const text = [
        `The webhook endpoint "${endpoint}" (${url}) answered 410 Gone at ${at}, to delivery ${deliveryId} of case ${caseId}.`,
        '',
        'It is disabled: its deliveries are recorded as "disabled" and not sent until its entry in the config changes (a new url or secret) and the service is restarted with it.',
        'Deliveries recorded meanwhile can be sent again with POST /webhooks/deliveries/{id}/retry once it is back.',
      ].join('\n');
      await deps.mailer.send({
        messageId: `<webhook-disabled.${endpoint}.${Date.parse(at)}@${/@([^>\s]+)>?\s*$/.exec(emailFrom)?.[1] ?? 'localhost'}>`,
        from: { address: emailFrom.replace(/^.*<([^>]+)>.*$/, '$1') },
        to: to.map((address) => ({ address })),
        subject: `Webhook endpoint "${endpoint}" disabled: it answered 410 Gone`,
        text,
        html: `<p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n\n/g, '</p><p>').replace(/\n/g, '<br>')}</p>`,
      });
    },
  };
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

interface Sent {
  status?: number;
  error?: string;
  retryAfterMs?: number;
  /** Refused before sending (a private target): retrying cannot help. */
  refused?: boolean;
}

/** The headers of a delivery: its id, the attempt's time, and one signature per secret. */
export function signedHeaders(e: Pick<WebhookEndpoint, 'secrets'>, id: string, body: string, now: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': e.secrets.map((s) => new Webhook(s).sign(id, now, body)).join(' '),
  };
}

/** A DNS lookup that refuses private answers: the address connected to is the address checked. */
function guardedLookup(allowPrivate: boolean, names: typeof dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    names(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a private, loopback or link-local address`), { code: 'EPRIVATE' }), '', 4);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function post(e: WebhookEndpoint, input: AttemptInput, allowPrivate: boolean, names: typeof dnsLookup): Promise<Sent> {
  const url = new URL(e.url);
  const problem = allowPrivate ? undefined : privateTargetProblem(url.hostname);
  if (problem) return Promise.resolve({ error: `refused: ${problem}`, refused: true });
  const headers = { ...signedHeaders(e, input.id, input.body, new Date()), 'user-agent': 'escalation-service-webhooks/1', 'content-length': String(Buffer.byteLength(input.body)) };
  return new Promise<Sent>((resolve) => {
    let settled = false;
    const finish = (s: Sent) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(s);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, lookup: guardedLookup(allowPrivate, names) }, (res: IncomingMessage) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > ANSWER_BYTES) res.destroy();
      });
      const answered = () => finish({ status: res.statusCode, retryAfterMs: retryAfterMs(res.headers['retry-after'], Date.now()) });
      res.on('end', answered);
      res.on('close', answered);
      res.on('error', answered);
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s` });
    }, ATTEMPT_TIMEOUT_MS);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.message, ...(err.code === 'EPRIVATE' ? { refused: true } : {}) }));
    req.end(input.body);
  });
}
