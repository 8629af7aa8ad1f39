import { Context } from '@temporalio/activity';
import { DEFAULT_POLICY, DEFAULT_TEAM, INTERNAL_ESCALATION_PATH, SEGMENT_LABELS, SEVERITY_TABLE, casePanel, type InternalTrigger, type MessageCase, type Outbound } from '../playbook';
import type { Roster } from '../config/settings';
import { Teams } from '../config/teams';
import type { Logger } from '../config/logger';
import type { Metrics } from '../config/metrics';
import { linkUrl, signLink, signStatusLink, statusUrl } from '../config/links';
import { messageIdFor, replyAddressFor, type Mailer } from './email';
import { resolveRecipients } from './recipients';
import { SendMark, UNCONFIRMED } from './send-mark';
import type { Renderer } from './render';
import { retryAfterMsOf, type SlackPoster } from './slack';
import { ApplicationFailure } from '@temporalio/common';
import { createWebhookActivities, noWebhookActivities } from './webhooks';
import type { WebhooksConfig } from '../config/webhooks';
import type { DeliverInput, DeliveryResult, EscalationActivities, PanelInput, SendActivities, StepInput, StepOutcome, StepResult, WebhookActivities } from './types';

export interface ActivityDeps {
  mailer: Mailer;
  /** Undefined when Slack is off (no SLACK_BOT_TOKEN): posts are recorded as skipped. */
  slack?: SlackPoster;
  /** Each case's messages go to its team's people and channel (config/teams.ts). */
  teams?: Teams;
  /** Without `teams`: the one team's channel and roster. */
  slackChannel?: string;
  roster?: Roster;
  renderer: Renderer;
  emailFrom: string;
  publicBaseUrl: string;
  linkSecret: string;
  /** One line per message sent, skipped or failed (case, message, kind, channel, status, reason). */
  logger?: Logger;
  /** Counts messages by channel, kind and result, and webhook attempts by endpoint and outcome. */
  metrics?: Pick<Metrics, 'messages'> & Partial<Pick<Metrics, 'webhookAttempts'>>;
  /** Outbound webhooks (config `webhooks`); absent: none, and a case's events go nowhere. */
  webhooks?: WebhooksConfig;
}


/** Activities close over their clients; the worker builds those from config. */
export function createActivities(deps: ActivityDeps): EscalationActivities & WebhookActivities {
  const base = deps.publicBaseUrl.replace(/\/$/, '');
  const teams = deps.teams ?? Teams.single({ roster: deps.roster ?? {}, slackChannel: deps.slackChannel, policy: { ...DEFAULT_POLICY } });
  const team = (kase: MessageCase) => teams.get(kase.team);

  function links(kase: MessageCase, m: Outbound) {
    const link = (action: 'confirm' | 'not_fixed' | 'csat') =>
      linkUrl(base, signLink(deps.linkSecret, { caseId: kase.id, action, ...(action !== 'csat' && kase.resolvedAt ? { resolution: kase.resolvedAt } : {}) }));
    return {
      // The case's page on the team's board (a browser can open it; the JSON API needs a key).
      case: `${base}/board/cases/${encodeURIComponent(kase.id)}`,
      ...(m.template === 'resolution' ? { confirm: link('confirm'), notFixed: link('not_fixed') } : {}),
      ...(m.template === 'follow_up' ? { csat: link('csat') } : {}),
      // Every customer email: where the case stands, any time.
      ...(m.audience === 'customer' ? { status: statusUrl(base, signStatusLink(deps.linkSecret, kase.id, kase.statusLinkGen ?? 0)) } : {}),
    };
  }

  /** A transfer's earlier Slack thread: its permalink (Slack's answer, or the archive address Slack redirects). */
  async function earlierThread(m: Outbound): Promise<string | null> {
    const earlier = m.data.earlierThread as { team: string; ts: string } | null | undefined;
    const channel = earlier ? teams.get(earlier.team).slackChannel : undefined;
    if (!earlier || !channel) return null;
    return (await deps.slack?.permalink(channel, earlier.ts).catch(() => undefined)) ?? `https://slack.com/archives/${channel}/p${earlier.ts.replace('.', '')}`;
  }

  async function context(input: DeliverInput) {
    const { case: kase, message } = input;
    const earlier = message.template === 'transferred' ? await earlierThread(message) : null;
    return {
      ...message.data,
      ...(message.template === 'transferred' ? { fromTeamName: teams.get(message.data.from as string).name, toTeamName: teams.get(message.data.to as string).name } : {}),
      case: kase,
      customer: kase.customer,
      contact: { ...kase.contact, firstName: kase.contact.name.split(/\s+/)[0] },
      csm: kase.csm,
      severityLabel: SEVERITY_TABLE[kase.severity].label,
      segmentLabel: SEGMENT_LABELS[kase.customer.segment] ?? kase.customer.segment,
      sender: { name: kase.csm.name, email: kase.csm.email },
      links: { ...links(kase, message), ...(earlier ? { earlierThread: earlier } : {}) },
      // The leadership subject names the trigger ("Churn Risk", "Executive Involved", …).
      topic: INTERNAL_ESCALATION_PATH[message.data.trigger as InternalTrigger]?.topic ?? null,
      now: Date.now(),
    };
  }

  /** Logs what became of one send: a line per outcome, a warning per failed attempt (Temporal retries it). */
  const logged =
    (channel: 'email' | 'slack', send: (input: DeliverInput) => Promise<DeliveryResult>) =>
    async (input: DeliverInput): Promise<DeliveryResult> => {
      const about = { caseId: input.caseId, messageId: input.message.id, kind: input.message.kind, channel, attempt: attempt() };
      try {
        const r = await send(input);
        deps.metrics?.messages.inc({ channel, kind: input.message.kind, status: r.status, team: input.case.team ?? DEFAULT_TEAM });
        deps.logger?.info({ ...about, status: r.status, to: r.to.length, ...(r.reason ? { reason: r.reason } : {}), ...(r.rejected?.length ? { rejected: r.rejected.length } : {}) }, `${channel} ${input.message.kind} ${r.status}`);
        return r;
      } catch (err) {
        deps.metrics?.messages.inc({ channel, kind: input.message.kind, status: 'failed', team: input.case.team ?? DEFAULT_TEAM });
        deps.logger?.warn({ ...about, status: 'failed', reason: (err as Error).message?.split('\n')[0].slice(0, 300) }, `${channel} ${input.message.kind} failed (attempt ${about.attempt}; retried)`);
        throw err;
      }
    };

  const webhooks = createWebhookActivities({
    config: deps.webhooks ?? { endpoints: [], allowPrivateTargets: false },
    teams,
    mailer: deps.mailer,
    emailFrom: deps.emailFrom,
    logger: deps.logger,
    metrics: deps.metrics?.webhookAttempts ? { webhookAttempts: deps.metrics.webhookAttempts } : undefined,
  });

  return withStepTries({
    sendEmail: logged('email', async (input: DeliverInput): Promise<DeliveryResult> => {
      const { case: kase, message } = input;
      const { found, missing } = resolveRecipients(message.to, kase, team(kase).roster);
      if (found.length === 0) return { status: 'skipped', to: [], reason: `nobody in the roster for ${missing.join(', ')}` };
      const customer = message.audience === 'customer';
      const timeZone = customer ? (kase.contact.timezone ?? 'UTC') : 'UTC';
      const r = deps.renderer.render(message.template, await context(input), timeZone);
      const from = customer ? { name: kase.csm.name, address: deps.emailFrom } : { address: deps.emailFrom };
      const thread = (message.thread ?? []).map((id) => messageIdFor(kase.id, id, deps.emailFrom));
      const mail = {
        messageId: messageIdFor(kase.id, message.id, deps.emailFrom),
        from,
        to: found.map((p) => ({ name: p.name, address: p.email })),
        subject: r.subject,
        text: r.text,
        html: r.html,
        ...(thread.length ? { inReplyTo: thread.at(-1), references: thread } : {}),
        // A reply reaches the case even from a mail client that drops the threading headers.
        ...(customer ? { replyTo: replyAddressFor(kase.id, deps.emailFrom) } : {}),
      };
      // A customer's email as an activity passes a mark written into Temporal before its last line goes:
      // an attempt that finds its predecessor passed it does not send again (activities/send-mark.ts).
      const mark = customer ? await SendMark.begin() : undefined;
      let result;
      try {
        if (mark?.passedBefore) return { status: 'sent', to: found.map((p) => p.email), subject: r.subject, reason: UNCONFIRMED, unconfirmed: true };
        result = mark ? await deps.mailer.send(mail, mark) : await heartbeating(() => deps.mailer.send(mail));
      } finally {
        mark?.end();
      }
      const reason = missing.length ? `not in the roster: ${missing.join(', ')}` : undefined;
      return {
        status: 'sent',
        to: result.accepted.length ? result.accepted : found.map((p) => p.email),
        subject: r.subject,
        ...(reason ? { reason } : {}),
        ...(result.rejected.length ? { rejected: result.rejected } : {}),
      };
    }),

    postSlack: logged('slack', async (input: DeliverInput): Promise<DeliveryResult> => {
      if (!deps.slack) return { status: 'skipped', to: [], reason: 'Slack is off (no SLACK_BOT_TOKEN)', off: true };
      const t = team(input.case);
      const channel = t.slackChannel;
      if (!channel) return { status: 'skipped', to: [], reason: `no slack.channel in the escalation config${teams.ids.length > 1 || t.id !== DEFAULT_TEAM ? ` for team ${t.id}` : ''}`, off: true };
      const { found } = resolveRecipients(input.message.to, input.case, t.roster);
      const mentions = found.map((p) => mention(p.slack) ?? p.name).join(' ');
      const r = deps.renderer.render(input.message.template, await context(input), 'UTC', mentions);
      const key = { caseId: input.caseId, messageId: input.message.id };
      // A retried post first looks for itself: the attempt before may have posted and died before it could say so.
      const retried = attempt() > 1 || input.lookFirst === true;
      // The thread's first post is the case's control panel: the alert, the case's state and its buttons.
      const blocks = input.threadTs ? undefined : casePanel(input.case, r.slack).blocks;
      const posted = await heartbeating(async () =>
        (retried ? await deps.slack!.find({ channel, threadTs: input.threadTs, key }) : undefined) ??
        deps.slack!.post({ channel, text: r.slack, blocks, threadTs: input.threadTs, key }),
      );
      return { status: 'sent', to: found.map((p) => p.slack ?? p.name), threadTs: input.threadTs ?? posted.ts };
    }),

    /** The root post shows where the case stands now; an update that fails for good is only logged. */
    refreshPanel: async (input: PanelInput): Promise<void> => {
      const channel = team(input.case).slackChannel;
      if (!deps.slack || !channel) return;
      const panel = casePanel(input.case);
      await deps.slack.update({ channel, ts: input.threadTs, text: panel.text, blocks: panel.blocks });
      deps.logger?.debug({ caseId: input.caseId, stage: input.case.stage }, 'slack panel updated');
    },
  }, webhooks);
}

/** The sends, and the step's local try made of them (so a test's own sends are what the try runs). */
export function withStepTries(activities: SendActivities, webhooks: WebhookActivities = noWebhookActivities()): EscalationActivities & WebhookActivities {
  return {
    ...webhooks,
    ...activities,
    tryStep: async (input: StepInput): Promise<StepResult> => {
      // Rules 7: the step's webhook events are handed on beside its sends (a failure leaves them to the workflow).
      const handOver = input.webhooks?.length
        ? webhooks.queueWebhooks({ caseId: input.caseId, events: input.webhooks }).then(() => 'queued' as const, () => 'failed' as const)
        : undefined;
      const result = await trySends(input);
      return handOver ? { ...result, webhooks: await handOver } : result;
    },
  };

  /** A step's sends tried once, locally (rules 5): emails side by side; the thread's first post, then the replies; the panel. */
  async function trySends(input: StepInput): Promise<StepResult> {
    const outcomes: StepOutcome[] = new Array(input.messages.length);
    const one = async (i: number, threadTs: string | null | undefined): Promise<StepOutcome> => {
      const message = input.messages[i];
      const deliver: DeliverInput = { caseId: input.caseId, message, case: input.case, threadTs, lookFirst: true };
      try {
        outcomes[i] = { result: await (message.channel === 'email' ? activities.sendEmail(deliver) : activities.postSlack(deliver)) };
      } catch (err) {
        outcomes[i] = { failure: failureOf(err) };
      }
      return outcomes[i];
    };
    const emails = input.messages.flatMap((m, i) => (m.channel === 'email' ? [one(i, undefined)] : []));
    const posts = (async () => {
      const slack = input.messages.flatMap((m, i) => (m.channel === 'slack' ? [i] : []));
      let threadTs = input.threadTs;
      if (!threadTs && slack.length > 0) {
        // The thread's first post, alone; the replies need its ts.
        const first = await one(slack.shift()!, undefined);
        threadTs = 'result' in first ? (first.result.threadTs ?? null) : null;
        if (!threadTs) {
          for (const i of slack) outcomes[i] = { untried: "the thread's first post did not go out" };
          return;
        }
      }
      await Promise.all(slack.map((i) => one(i, threadTs)));
      return threadTs;
    })();
    const [, threadTs] = await Promise.all([Promise.all(emails), posts]);
    if (!input.panel || !threadTs) return { outcomes };
    try {
      await activities.refreshPanel({ caseId: input.caseId, case: input.case, threadTs });
      return { outcomes, panel: 'updated' };
    } catch {
      return { outcomes, panel: 'failed' }; // best effort: the next change tries again
    }
  }
}

/** A failed send as the workflow reads it: retryable or not, and Slack's Retry-After where it gave one. */
function failureOf(err: unknown): { message: string; permanent: boolean; retryAfterMs?: number } {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApplicationFailure)) return { message, permanent: false };
  const retryAfterMs = retryAfterMsOf(err);
  return { message, permanent: err.nonRetryable === true, ...(retryAfterMs ? { retryAfterMs } : {}) };
}

/** Which attempt this is (1 outside an activity, e.g. in a unit test). */
function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * Runs a send while heartbeating every second: a worker that dies mid-send stops heartbeating, and
 * Temporal retries the send after the heartbeat timeout (seconds), not the start-to-close timeout.
 */
async function heartbeating<T>(send: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return send();
  }
  if (ctx.info.isLocal) return send(); // a local try is bounded by its own short timeout
  ctx.heartbeat();
  const timer = setInterval(() => ctx!.heartbeat(), 1_000);
  try {
    return await send();
  } finally {
    clearInterval(timer);
  }
}

/** A roster's Slack id as a mention: users <@U…>, user groups <!subteam^S…>, channels <#C…>. */
function mention(id: string | undefined): string | undefined {
  if (!id) return undefined;
  if (/^[UW]/.test(id)) return `<@${id}>`;
  if (id.startsWith('S')) return `<!subteam^${id}>`;
  return `<#${id}>`;
}
