import type { Server } from 'node:http';
import { Client, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import type { ClientConnectConfig } from '@temporalio/envconfig';
import type { Logger } from '../config/logger';
import type { Secrets } from '../config/secrets';
import { ConfigError, type Env, type EscalationConfig, type Roster } from '../config/settings';
import { DEADLINE_KINDS, DEFAULT_LIMITS, STAGES, durationMs, type Calendar, type Limits, type Policy } from '../playbook';
import { createApp } from './app';
import { createMetrics, registerCaseGauges, serveMetrics, type Metrics } from '../config/metrics';
import { ESCALATION_WORKFLOW, SA } from '../workflows/messages';
import { connectToTemporal } from '../config/connect';
import { parseApiKeys, type ApiKey } from './auth';
import { EscalationService } from './service';
import { teamClause } from './visibility';
import { WebhookDeliveries } from './webhooks';
import type { WebhooksConfig } from '../config/webhooks';
import { Sessions, type SessionOptions } from './sessions';
import { DEFAULT_TEAM, Teams } from '../config/teams';
import { startInboundSmtp } from './smtp-inbound';

export interface ApiOptions {
  connect: ClientConnectConfig & { namespace: string };
  taskQueue: string;
  policy: Policy;
  limits?: Limits;
  /** Business-hours calendars by name (the escalation config's). */
  calendars?: Record<string, Calendar>;
  /** The config's teams (default: one, `default`, with `policy`). */
  teams?: Teams;
  apiKeys?: string;
  adminKey?: string;
  linkSecret: string;
  publicBaseUrl?: string;
  /** EMAIL_FROM: customer replies reach `<local>+<caseId>@<domain>` of it. */
  emailFrom?: string;
  /** SLACK_SIGNING_SECRET (with the bot token, Web API base and roster): Slack interactivity at /slack/events. */
  slack?: { signingSecret: string; botToken?: string; apiUrl?: string; roster: Roster; teams?: Teams };
  /** TEMPORAL_UI_URL: case views link to their workflow in the Temporal UI. */
  temporalUiUrl?: string;
  /** INBOUND_SMTP_PORT: the built-in SMTP receiver for customer replies. */
  inboundSmtpPort?: number;
  port: number;
  logger: Logger;
  /** Stops waiting for Temporal (Ctrl-C before it answered). */
  signal?: AbortSignal;
  /** METRICS_PORT: metrics on their own port; unset, the API serves /metrics. */
  metricsPort?: number;
  /** The process's metrics (npm start shares them with the worker); made here when absent. */
  metrics?: Metrics;
  /** OIDC_ISSUER set: people sign in with the identity provider (api/sessions.ts). */
  signIn?: Omit<SessionOptions, 'teams' | 'logger' | 'publicBaseUrl'>;
  /** Outbound webhooks: their deliveries are listed and retried here. */
  webhooks?: WebhooksConfig;
}

/** The API's options from the parsed environment, config and secrets. */
export function apiOptionsFrom(p: { env: Env; config: EscalationConfig; secrets: Secrets; connect: ApiOptions['connect']; logger: Logger }): ApiOptions {
  return {
    connect: p.connect,
    taskQueue: p.env.TEMPORAL_TASK_QUEUE,
    policy: p.config.policy,
    limits: p.config.limits,
    calendars: p.config.calendars,
    teams: p.config.teams,
    apiKeys: p.env.API_KEYS,
    adminKey: p.secrets.adminKey,
    linkSecret: p.secrets.linkSecret,
    publicBaseUrl: p.env.PUBLIC_BASE_URL,
    emailFrom: p.env.EMAIL_FROM,
    inboundSmtpPort: p.env.INBOUND_SMTP_PORT,
    temporalUiUrl: p.env.TEMPORAL_UI_URL,
    ...(p.env.SLACK_SIGNING_SECRET
      ? { slack: { signingSecret: p.env.SLACK_SIGNING_SECRET, botToken: p.env.SLACK_BOT_TOKEN, apiUrl: p.env.SLACK_API_URL, roster: p.config.roster, teams: p.config.teams } }
      : {}),
    port: p.env.PORT,
    logger: p.logger,
    metricsPort: p.env.METRICS_PORT,
    webhooks: p.config.webhooks,
    ...(p.env.OIDC_ISSUER ? { signIn: signInFrom(p.env, p.config, p.secrets) } : {}),
  };
}

/** Sign-in with the identity provider from the environment: its client id is required with its issuer. */
export function signInFrom(env: Env, config: EscalationConfig, secrets: Secrets): NonNullable<ApiOptions['signIn']> {
  if (!env.OIDC_CLIENT_ID) throw new ConfigError('OIDC_ISSUER is set: set OIDC_CLIENT_ID (and OIDC_CLIENT_SECRET) to the service\'s registration at the provider');
  return {
    issuer: env.OIDC_ISSUER!,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    scopes: env.OIDC_SCOPES,
    secret: secrets.sessionSecret,
    ttlMs: durationMs(env.SESSION_TTL),
    idleMs: durationMs(env.SESSION_IDLE_TTL),
    auth: config.auth,
  };
}

/** API keys from API_KEYS, or the one generated admin key. */
export function apiKeys(spec: string | undefined, adminKey: string | undefined, knownTeams?: readonly string[]): ApiKey[] {
  if (spec) {
    try {
      return parseApiKeys(spec, knownTeams && [...new Set([DEFAULT_TEAM, ...knownTeams])]);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  if (!adminKey) throw new Error('Set API_KEYS (name:role:key,…)');
  return parseApiKeys(`admin:admin:${adminKey}`);
}

/**
 * The API's connection: a request should fail over to a 503 within seconds, not retry for a minute,
 * so gRPC retries are capped (the caller, or its Retry-After, tries again).
 */
export function apiConnectionOptions(options: ConnectionOptions): ConnectionOptions {
  return {
    connectTimeout: '5s',
    ...options,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3, maxIntervalMs: () => 1000 }))],
  };
}

/** Connects the one Temporal client and serves the API; `close` stops both. */
export async function startApi(o: ApiOptions): Promise<{ server: Server; port: number; smtpPort?: number; close: () => Promise<void> }> {
  // Temporal may not be up yet (compose, a rollout): wait for it with backoff rather than exit.
  const connection = await connectToTemporal(o.connect, o.logger, { signal: o.signal, options: apiConnectionOptions });
  const client = new Client({ connection, namespace: o.connect.namespace });
  const metrics = o.metrics ?? createMetrics();
  const teams = o.teams ?? Teams.single({ roster: {}, slackChannel: undefined, policy: o.policy });
  registerCaseGauges(
    metrics,
    (query) => client.workflow.count(query).then((c) => c.count),
    { stage: SA.stage.name, status: SA.status.name, breachKinds: SA.breachKinds.name, workflowType: ESCALATION_WORKFLOW },
    STAGES.filter((s) => s !== 'closed'),
    DEADLINE_KINDS,
    // `default` too: the cases of before teams are its own, whether or not the config names it.
    { ids: [...new Set([...teams.ids, DEFAULT_TEAM])], clause: (t) => teamClause(t)! },
  );
  const metricsServer = o.metricsPort ? await serveMetrics({ port: o.metricsPort, metrics, healthy: () => true }) : undefined;
  const service = new EscalationService({ client, taskQueue: o.taskQueue, policy: () => o.policy, limits: () => ({ ...(o.limits ?? DEFAULT_LIMITS) }), calendars: () => o.calendars ?? {}, teams: () => teams, temporalUiUrl: o.temporalUiUrl });
  const publicBaseUrl = o.publicBaseUrl ?? `http://localhost:${o.port}`;
  const sessions = o.signIn ? new Sessions({ ...o.signIn, publicBaseUrl, teams: () => teams, logger: o.logger }) : undefined;
  const app = createApp({ service, sessions, calendars: Object.keys(o.calendars ?? {}), teams: teams.ids, keys: apiKeys(o.apiKeys, o.adminKey, teams.ids), linkSecret: o.linkSecret, logger: o.logger, publicBaseUrl: o.publicBaseUrl, emailFrom: o.emailFrom, slack: o.slack, metrics, metricsOnApi: !metricsServer, webhooks: new WebhookDeliveries(client, o.webhooks ?? { endpoints: [], allowPrivateTargets: false }, teams.ids, o.taskQueue) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(o.port, () => resolve(s)).once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConfigError(`PORT=${o.port} cannot be used: another process listens there. Set PORT to a free port.`) : err),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const smtp =
    o.inboundSmtpPort === undefined
      ? undefined
      : await startInboundSmtp({ port: o.inboundSmtpPort, service, emailFrom: o.emailFrom ?? 'escalations@localhost', logger: o.logger }).catch((err: NodeJS.ErrnoException) => {
          server.close();
          throw err.code === 'EADDRINUSE' ? new ConfigError(`INBOUND_SMTP_PORT=${o.inboundSmtpPort} cannot be used: another process listens there.`) : err;
        });
  if (smtp) o.logger.info({ port: smtp.port }, 'customer replies by SMTP');
  return {
    server,
    port,
    smtpPort: smtp?.port,
    close: async () => {
      await smtp?.close();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
      await connection.close();
    },
  };
}
