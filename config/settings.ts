import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { DEFAULT_LIMITS, ROLES, WEEKDAYS, calendarProblem, type Calendar, type Limits, type Policy } from '../playbook';
import { durationString, policySchema } from '../playbook/policy-schema';
import { webhooksSchema, type WebhooksConfig } from './webhooks';
import { DEFAULT_TEAM, resolveTeams, rosterSchema, teamsSchema, type Roster, type Teams } from './teams';

/** Temporal's frontend port, where the SDK and the CLI look when nothing else is said. */
export const TEMPORAL_PORT = 7233;

/** The environment of CONTRACT.md, parsed once at start. */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('.data'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65535).default(TEMPORAL_PORT),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** Prometheus metrics on their own port (the worker adds its SDK metrics, served on WORKER_SDK_METRICS_PORT); unset: the API serves /metrics. */
  METRICS_PORT: z.coerce.number().int().min(1).max(65534).optional(),
  /** The loopback port of the worker's Temporal SDK metrics, merged into METRICS_PORT's /metrics; unset: METRICS_PORT + 1. */
  WORKER_SDK_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('escalations'),
  /** The Temporal UI's address (e.g. https://cloud.temporal.io or http://localhost:8080): case views link to it. */
  TEMPORAL_UI_URL: z.url().optional(),
  ESCALATION_CONFIG: z.string().min(1).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected smtp://user:pass@host:port or smtps://…' }).optional(),
  EMAIL_FROM: z.string().min(3).default('escalations@localhost'),
  /** A built-in SMTP receiver for customer replies; unset: off (POST /inbound/email only). */
  INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_API_URL: z.url().optional(),
  /** Verifies Slack's requests to /slack/events; unset: /slack/events answers 404. */
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  API_KEYS: z.string().min(1).optional(),
  LINK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** People sign in at this OpenID Connect issuer (discovery); unset: no sign-in, the board takes an API key. */
  OIDC_ISSUER: z
    .url()
    .refine((u) => u.startsWith('https:') || /^http:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/.test(u), 'must be https (http only on a loopback host)')
    .optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_SCOPES: z.string().min(1).default('openid email profile'),
  /** Seals the session cookies; the same on every API process (generated under DATA_DIR when unset). */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** A session's lifetime, and how long it lasts unused. */
  SESSION_TTL: durationString.default('12h'),
  SESSION_IDLE_TTL: durationString.default('2h'),
  PUBLIC_BASE_URL: z.url().optional(),
  /** Cases a worker keeps in memory between their steps; one evicted is rebuilt from its history at its next step. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(500),
  /** How long a step waits for the worker holding its case before any worker takes it (milliseconds). */
  WORKER_STICKY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /**
   * The V8 heap limit of the worker's workflow thread (MiB): garbage is collected before the heap passes
   * it, where V8's default lets it grow to about 4 GB on a large machine.
   */
  WORKER_WORKFLOW_HEAP_MB: z.coerce.number().int().min(128).max(65_536).default(512),
  /**
   * The SDK's per-promise stack traces in workflows, for the Temporal UI's "Stack Trace" tab: about 30%
   * of the workflow thread's CPU, so off unless true (worker/workflow-thread-preload.cjs).
   */
  WORKER_STACK_TRACES: z.stringbool().default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Env = z.infer<typeof envSchema>;

/** A person's groups to roles per team: `*` is every team. */
export const authSchema = z
  .object({
    groupsClaim: z.string().min(1).default('groups'),
    emailClaim: z.string().min(1).default('email'),
    nameClaim: z.string().min(1).default('name'),
    groups: z.record(z.string().min(1), z.object({ team: z.string().min(1), role: z.enum(['viewer', 'agent', 'admin']) }).strict()).default({}),
  })
  .strict();
export type AuthConfig = z.infer<typeof authSchema>;

export type { Person, Roster } from './teams';

/** A calendar as the config writes it (the name is its key); `calendarProblem` says what is wrong with one. */
const calendarSchema = z
  .object({
    timezone: z.string().min(1),
    hours: z.partialRecord(z.enum(WEEKDAYS), z.array(z.string())).default({}),
    holidays: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = calendarProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The escalation config file (JSON or YAML): roster, Slack channel, policy, calendars, templates folder. */
const fileSchema = z
  .object({
    calendars: z.record(z.string().min(1).max(100), calendarSchema).default({}),
    roster: rosterSchema.default({}),
    slack: z.object({ channel: z.string().min(1).optional() }).strict().default({}),
    policy: policySchema,
    limits: z
      .object({
        notes: z.number().int().min(1).max(DEFAULT_LIMITS.notes * 5).default(DEFAULT_LIMITS.notes),
        updates: z.number().int().min(1).max(DEFAULT_LIMITS.updates * 5).default(DEFAULT_LIMITS.updates),
        timeline: z.number().int().min(10).max(DEFAULT_LIMITS.timeline * 2).default(DEFAULT_LIMITS.timeline),
        storedTextChars: z.number().int().min(1_000).max(DEFAULT_LIMITS.storedTextChars * 4).default(DEFAULT_LIMITS.storedTextChars),
      })
      .strict()
      .prefault({}),
    templates: z.string().min(1).optional(),
    /** Several teams, each with its people, channel, policy and calendar (config/teams.ts); absent: one team, `default`. */
    teams: teamsSchema.optional(),
    /** The team an open that names none goes to, when more than one is configured. */
    defaultTeam: z.string().min(1).optional(),
    /** Sign-in: the ID token's claims, and the groups that give roles in teams (OIDC_ISSUER). */
    auth: authSchema.prefault({}),
    /** Outbound webhooks (config/webhooks.ts). */
    webhooks: webhooksSchema.prefault({}),
  })
  .strict()
  .superRefine((f, ctx) => {
    const name = f.policy.calendar;
    if (name && !f.calendars[name]) {
      ctx.addIssue({ code: 'custom', path: ['policy', 'calendar'], message: `no calendar "${name}" in calendars (known: ${Object.keys(f.calendars).join(', ') || 'none'})` });
    }
  });

export interface EscalationConfig {
  roster: Roster;
  slackChannel: string | undefined;
  policy: Policy;
  /** What new cases may hold (README, "Limits"). */
  limits: Limits;
  /** Named business-hours calendars; a new case takes `policy.calendar` or the one its open names. */
  calendars: Record<string, Calendar>;
  /** Absolute path of the folder whose templates override the built-in ones. */
  templatesDir: string | undefined;
  /** The teams (one, `default`, made of the settings above when the config has none). */
  teams: Teams;
  /** How a signed-in person's claims and groups are read. */
  auth: AuthConfig;
  /** Outbound webhooks: endpoints, who is told of a disabled one, private targets. */
  webhooks: WebhooksConfig;
}

/** A roster for trying the service out: every role reaches a local mailbox (the outbox, by default). */
export const DEFAULT_ROSTER: Roster = Object.fromEntries(
  ROLES.map((role) => [role, { name: role.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase()), email: `${role.toLowerCase()}@localhost` }]),
);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function formatIssues(where: string, error: z.ZodError): string {
  // A record's bad key (a team id): the key's own reason, not zod's "Invalid key in record".
  const reason = (i: z.core.$ZodIssue) => (i.code === 'invalid_key' && i.issues[0] ? i.issues[0].message : i.message);
  const lines = error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${reason(i)}`);
  return `${where} is invalid:\n${lines.join('\n')}`;
}

export function parseEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = envSchema.safeParse(cleaned);
  if (!r.success) throw new ConfigError(formatIssues('The environment', r.error));
  return r.data;
}

/** Reads and validates ESCALATION_CONFIG, or the built-in defaults when it is unset. */
export function loadEscalationConfig(path: string | undefined): EscalationConfig {
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`ESCALATION_CONFIG=${path} cannot be read: ${(err as Error).message}`);
    }
    try {
      raw = /\.ya?ml$/i.test(path) ? YAML.parse(text) : JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`ESCALATION_CONFIG=${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
    }
  }
  const r = fileSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(formatIssues(`ESCALATION_CONFIG${path ? `=${path}` : ''}`, r.error));
  const file = r.data;
  const roster = path ? file.roster : { ...DEFAULT_ROSTER, ...file.roster };
  const calendars = Object.fromEntries(Object.entries(file.calendars).map(([name, c]) => [name, { name, ...c }]));
  const { teams, issues } = resolveTeams(file.teams, file.defaultTeam, { roster, slackChannel: file.slack.channel, policy: file.policy }, Object.keys(calendars));
  for (const [group, g] of Object.entries(file.auth.groups)) {
    if (g.team !== '*' && g.team !== DEFAULT_TEAM && !teams.has(g.team)) issues.push({ path: ['auth', 'groups', group, 'team'], message: `no team "${g.team}" (known: ${teams.ids.join(', ')}, or * for every team)` });
  }
  file.webhooks.endpoints.forEach((e, i) => {
    for (const t of e.teams ?? []) if (!teams.has(t) && t !== DEFAULT_TEAM) issues.push({ path: ['webhooks', 'endpoints', String(i), 'teams'], message: `no team "${t}" (known: ${teams.ids.join(', ')})` });
  });
  if (issues.length > 0) {
    const lines = issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`ESCALATION_CONFIG${path ? `=${path}` : ''} is invalid:\n${lines.join('\n')}`);
  }
  const templatesDir = file.templates && path ? (isAbsolute(file.templates) ? file.templates : resolve(dirname(path), file.templates)) : file.templates;
  return {
    roster,
    slackChannel: file.slack.channel,
    policy: file.policy,
    limits: file.limits,
    calendars,
    templatesDir,
    teams,
    auth: file.auth,
    webhooks: file.webhooks,
  };
}
