import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, type Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { SmtpMailer } from '../../activities/email';
import { Renderer } from '../../activities/render';
import { SlackWebApiPoster } from '../../activities/slack';
import { createApp } from '../../api/app';
import { parseApiKeys } from '../../api/auth';
import { EscalationService } from '../../api/service';
import { DEFAULT_ROSTER, type Roster } from '../../config/settings';
import { DEFAULT_TEAM, Teams } from '../../config/teams';
import { Sessions, type SessionOptions } from '../../api/sessions';
import { freePort } from './processes';
import { DEFAULT_POLICY, type Calendar, type Policy } from '../../playbook';
import { caseInput, uniqueId } from './fixtures';
import { startSlack } from './slack';
import { WebhookDeliveries } from '../../api/webhooks';
import type { WebhooksConfig } from '../../config/webhooks';
import type { Metrics } from '../../config/metrics';
import { startSmtp } from './smtp';
import { devServerEnv } from './temporal';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';

export const KEYS = {
  viewer: 'viewer-key-0123456789abcdef',
  agent: 'agent-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
  inbound: 'inbound-key-0123456789abcdef',
};
/** The sender address of every case email in the system tests (replies reach `escalations+<caseId>@vendor.example`). */
export const EMAIL_FROM = 'escalations@vendor.example';
export const LINK_SECRET = 'system-test-link-secret-0123456789';

/**
 * The whole system in the test process: a real Temporal dev server, the real worker with real
 * senders (an SMTP server and a Slack Web API server in this process) and the API on port 0.
 */
export async function startSystem(
  o: {
    policy?: Policy;
    roster?: Roster;
    env?: TestWorkflowEnvironment;
    logLines?: string[];
    linkRequestsPerMinute?: number;
    calendars?: Record<string, Calendar>;
    /** Turns on /slack/events with this signing secret (the bot token and Web API are the local Slack's). */
    slackSigningSecret?: string;
    /** Bolt answers a request no handler took after this long (tests of generated requests keep it short). */
    slackUnhandledAfterMs?: number;
    /** Several teams (config/teams.ts): each case's messages go to its team's people and channel. */
    teams?: Teams;
    /** More API_KEYS entries (`name:role:key[:teams]`), besides the four of KEYS. */
    moreKeys?: string[];
    /** Requests a minute one status page link takes. */
    statusRequestsPerMinute?: number;
    /** The API's port (default: any free one). */
    port?: number;
    /** People sign in at this provider (api/sessions.ts); PUBLIC_BASE_URL is http://127.0.0.1:<port>. */
    signIn?: Omit<SessionOptions, 'teams' | 'logger' | 'publicBaseUrl'>;
    /** Outbound webhooks (config/webhooks.ts): the worker delivers, the API lists and retries. */
    webhooks?: WebhooksConfig;
    /** The worker's metrics (webhook attempts by endpoint and outcome). */
    metrics?: Metrics;
    /** The API's own connection to Temporal (default: the test environment's), e.g. made as the API makes it. */
    connection?: Connection;
  } = {},
) {
  const [env, smtp, slack] = await Promise.all([o.env ? Promise.resolve(o.env) : devServerEnv(), startSmtp(), startSlack()]);
  const taskQueue = uniqueId('tq');
  const policy = o.policy ?? DEFAULT_POLICY;
  const activities = createActivities({
    mailer: new SmtpMailer(smtp.url),
    slack: new SlackWebApiPoster('xoxb-good', slack.apiUrl),
    ...(o.teams ? { teams: o.teams } : { slackChannel: 'C0CASES', roster: o.roster ?? DEFAULT_ROSTER }),
    renderer: new Renderer(),
    emailFrom: EMAIL_FROM,
    publicBaseUrl: 'http://localhost:3000',
    linkSecret: LINK_SECRET,
    webhooks: o.webhooks,
    metrics: o.metrics,
  });
  const startWorker = () => Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, ...WORKFLOW_SOURCE, activities });
  let worker = await startWorker();
  let running = worker.run();
  const client = new Client({ connection: o.connection ?? env.connection, namespace: env.namespace ?? 'default' });
  // Log lines kept in memory when asked for (to check what a log may say), else none.
  const logger = o.logLines ? pino({ level: 'info' }, { write: (line: string) => void o.logLines!.push(line) }) : pino({ level: 'silent' });
  const service = new EscalationService({ client, taskQueue, policy: () => policy, calendars: () => o.calendars ?? {}, ...(o.teams ? { teams: () => o.teams! } : {}) });
  const keys = parseApiKeys([...Object.entries(KEYS).map(([role, key]) => `${role}-user:${role}:${key}`), ...(o.moreKeys ?? [])].join(','), o.teams ? [...o.teams.ids, DEFAULT_TEAM] : undefined);
  const slackEvents = o.slackSigningSecret
    ? { signingSecret: o.slackSigningSecret, botToken: 'xoxb-good', apiUrl: slack.apiUrl, roster: o.roster ?? DEFAULT_ROSTER, teams: o.teams, unhandledAfterMs: o.slackUnhandledAfterMs }
    : undefined;
  const port = o.port ?? (o.signIn ? await freePort() : 0);
  const teams = o.teams ?? Teams.single({ roster: o.roster ?? DEFAULT_ROSTER, slackChannel: 'C0CASES', policy });
  const sessions = o.signIn ? new Sessions({ ...o.signIn, publicBaseUrl: `http://127.0.0.1:${port}`, teams: () => teams, logger }) : undefined;
  const app = createApp({ service, sessions, calendars: Object.keys(o.calendars ?? {}), teams: teams.ids, keys, linkSecret: LINK_SECRET, logger, linkRequestsPerMinute: o.linkRequestsPerMinute, statusRequestsPerMinute: o.statusRequestsPerMinute, emailFrom: EMAIL_FROM, slack: slackEvents, ...(o.signIn ? { publicBaseUrl: `http://127.0.0.1:${port}` } : {}), webhooks: new WebhookDeliveries(client, o.webhooks ?? { endpoints: [], allowPrivateTargets: false }, teams.ids, taskQueue) });
  const server = await new Promise<Server>((r) => {
    const s = app.listen(port, '127.0.0.1', () => r(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** `key`: one of KEYS by its role, or any other key's value (`moreKeys`); null: none. */
  async function call(method: string, path: string, opts: { key?: keyof typeof KEYS | (string & {}) | null; body?: unknown; headers?: Record<string, string> } = {}) {
    const key = opts.key === undefined ? 'admin' : opts.key;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { authorization: `Bearer ${key in KEYS ? KEYS[key as keyof typeof KEYS] : key}` } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    return { status: res.status, body: await bodyOf(res), headers: res.headers };
  }

  return {
    env,
    smtp,
    slack,
    client,
    base,
    call,
    taskQueue,
    service,
    logger,
    /** Stops the worker (its cases wait, as when every worker is busy or gone) until `resumeWorker`. */
    async pauseWorker() {
      worker.shutdown();
      await running;
    },
    async resumeWorker() {
      worker = await startWorker();
      running = worker.run();
    },
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await Promise.all([smtp.close(), slack.close()]);
      if (!o.env) await env.teardown();
    },
  };
}
export type System = Awaited<ReturnType<typeof startSystem>>;

/** A response's body as JSON, or its text when it is not JSON. */
export async function bodyOf(res: Response): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Polls until `pred` holds (visibility and deliveries are asynchronous). */
export async function eventually<T>(fn: () => Promise<T>, pred: (v: T) => boolean, what = 'condition', timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await fn();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < end);
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 500)}`);
}

/** An API request body for a new case: the shared fixture, as a client would send it. */
export function openBody(overrides: Record<string, unknown> = {}) {
  return { ...caseInput({ trigger: 'Data missing or incorrect', impact: 'month-end close is blocked' }), ...overrides };
}
