/**
 * Slack interactivity at `/slack/events` (CONTRACT.md, "Slack interactivity"): the buttons and menus of
 * a case's root post, the modals they open, and the `/escalation` slash command. Slack's own framework
 * (Bolt) verifies each request's signature and timestamp (401 otherwise, nothing changes) and parses it;
 * its ExpressReceiver is mounted on the API's Express app before the API's body parsers (Bolt needs the
 * raw body to check the signature). Every action goes through the same EscalationService as the HTTP API.
 */
import express from 'express';
import { App, ExpressReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { CATEGORIES, INTERNAL_TRIGGERS, PANEL_ACTIONS, PAUSE_REASONS, SEGMENTS, SEVERITIES, type Action, type InternalTrigger, type PauseReason } from '../playbook';
import type { Logger } from '../config/logger';
import type { Roster } from '../config/settings';
import { Teams, type TeamRole } from '../config/teams';
import { DEFAULT_POLICY } from '../playbook';
import { HttpError } from './errors';
import { holds, requireAct } from './access';
import { toHttpError } from './errors';
import { listQuerySchema, openSchema, parseQuery } from './schemas';
import type { EscalationService } from './service';

export interface SlackEventsDeps {
  service: EscalationService;
  signingSecret: string;
  botToken?: string;
  /** The Web API base (tests point it at a local server). */
  apiUrl?: string;
  roster: Roster;
  /** The teams: a Slack user acts on a case where their email is a member of its team with the role (or is its CSM). */
  teams?: Teams;
  logger: Logger;
  /** How long a modal submission waits for the case before Slack's 3-second deadline makes it answer. */
  answerWithinMs?: number;
  /** A request no handler answered is 404 after this long (Bolt's default: 3,001 ms). */
  unhandledAfterMs?: number;
}

type ActionType = Action['type'];
type Values = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null; selected_date_time?: number | null }>>;

/** Bolt's logger on the service's pino logger. */
function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ name: 'slack' });
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => log.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => log.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => log.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => log.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const input = (block_id: string, label: string, element: Record<string, unknown>, optional = false) => ({ type: 'input', block_id, label: plain(label), optional, element: { action_id: 'value', ...element } });
const text = (multiline = false, max = 3000) => ({ type: 'plain_text_input', multiline, max_length: max });
const select = (options: readonly string[]) => ({ type: 'static_select', options: options.map((o) => ({ text: plain(o.replace(/_/g, ' ')), value: o })) });
const modal = (callback_id: string, title: string, submit: string, meta: object, blocks: object[]) => ({
  type: 'modal' as const,
  callback_id,
  title: plain(title),
  submit: plain(submit),
  close: plain('Cancel'),
  private_metadata: JSON.stringify(meta),
  blocks,
});

function updateModal(caseId: string, channel?: string) {
  return modal('escalation.update', 'Progress update', 'Send', { caseId, channel }, [
    input('known', 'What we know', text(true)),
    input('unknown', "What we're still investigating", text(true), true),
    input('workaround', 'Workaround in the meantime', text(true), true),
    input('nextUpdateAt', 'Next update by', { type: 'datetimepicker' }, true),
  ]);
}
function resolveModal(caseId: string, channel?: string) {
  return modal('escalation.resolve', 'Resolution', 'Send', { caseId, channel }, [
    input('rootCause', 'Root cause', text(true)),
    input('fix', 'Fix', text(true)),
    input('prevention', 'Prevention', text(true)),
  ]);
}
function openModal(channel: string) {
  return modal('escalation.open', 'Open an escalation', 'Open', { channel }, [
    input('customer.id', 'Customer id', text()),
    input('customer.name', 'Customer name', text()),
    input('customer.segment', 'Segment', select(SEGMENTS)),
    input('customer.arr', 'ARR', { type: 'number_input', is_decimal_allowed: true, min_value: '0' }),
    input('customer.healthScore', 'Health score (0–100)', { type: 'number_input', is_decimal_allowed: false, min_value: '0', max_value: '100' }),
    input('contact.name', 'Customer contact', text()),
    input('contact.email', "Contact's email", { type: 'email_text_input' }),
    input('severity', 'Severity', select(SEVERITIES)),
    input('category', 'Category', select(CATEGORIES)),
    input('trigger', 'Trigger', text()),
    input('title', 'Title', text(false, 200)),
    input('impact', 'Impact on the customer', text(true, 2000)),
  ]);
}

/** The fields of a modal, by block id: where a refusal of that field is shown. */
const blockIds = (view: { blocks: object[] }) => view.blocks.map((b) => (b as { block_id: string }).block_id);

const HELP = [
  '*/escalation open* — open a case (a form)',
  '*/escalation mine* — your open cases, soonest deadline first',
  '*/escalation help* — this',
  'On a case’s root post: acknowledge, post an update, pause or resume the clocks, escalate internally, resolve.',
].join('\n');

/** A field of a refused request, as the block of the modal that holds it. */
function fieldErrors(err: unknown, blocks: readonly string[]): { status: number; message: string; errors: Record<string, string> } {
  const http = toHttpError(err);
  const details = Array.isArray(http.details) ? (http.details as { field?: string; message?: string }[]) : [];
  const errors: Record<string, string> = {};
  for (const d of details) {
    const block = blocks.find((b) => b === d.field || (d.field ?? '').startsWith(`${b}.`));
    if (block && d.message) errors[block] = errors[block] ? `${errors[block]}; ${d.message}` : d.message;
  }
  if (Object.keys(errors).length === 0) errors[blocks[0]] = http.message;
  return { status: http.status, message: http.message, errors };
}

/** The router to mount on the API's Express app, before its body parsers. */
export function slackEvents(deps: SlackEventsDeps): express.Router {
  const { service, roster } = deps;
  const teams = deps.teams ?? Teams.single({ roster, slackChannel: undefined, policy: { ...DEFAULT_POLICY } });
  /** Members are named in the config: Slack users act by their membership. None named: the channel is the boundary, as before teams. */
  const membersNamed = teams.ids.some((id) => Object.keys(teams.get(id).members).length > 0);
  const log = deps.logger.child({ name: 'slack' });
  const router = express.Router();
  const receiver = new ExpressReceiver({
    signingSecret: deps.signingSecret,
    router,
    endpoints: '/slack/events',
    logger: boltLogger(deps.logger),
    ...(deps.unhandledAfterMs ? { unhandledRequestTimeoutMillis: deps.unhandledAfterMs } : {}),
    // A handler's error is logged and answered 200: Slack shows nothing, the user is told alone where possible.
    processEventErrorHandler: async ({ error, response }) => {
      log.error({ err: (error as Error).message }, 'slack handler error');
      if (!response.headersSent) response.writeHead(200).end();
      return true;
    },
  });
  const app = new App({
    receiver,
    ...(deps.botToken ? { token: deps.botToken } : { authorize: async () => ({}) }),
    tokenVerificationEnabled: false,
    logger: boltLogger(deps.logger),
    clientOptions: { ...(deps.apiUrl ? { slackApiUrl: deps.apiUrl } : {}), retryConfig: { retries: 1 }, timeout: 5_000 },
  });
  const within = deps.answerWithinMs ?? 2_500;

  /** Who the Slack user is: the roster's `slack` id, the case's CSM (their email in Slack), or the Slack user as Slack names them. */
  async function actorOf(client: WebClient, userId: string, caseId?: string): Promise<string> {
    const listed = Object.values(roster).find((p) => p?.slack === userId);
    if (listed) return listed.name;
    if (caseId) {
      const csm = await service.get(caseId).then((c) => c.csm, () => undefined);
      const found = csm ? await client.users.lookupByEmail({ email: csm.email }).catch(() => undefined) : undefined;
      if (csm && found?.user?.id === userId) return csm.name;
    }
    const info = await client.users.info({ user: userId }).catch(() => undefined);
    const name = info?.user?.real_name || info?.user?.name;
    return `${name ? `${name} ` : ''}(Slack ${userId})`;
  }

  /**
   * Whether the Slack user may take an action needing `need` on the case: a member of its team with the
   * role, its CSM, or a person of its team's roster. Refused as the API refuses (404 where they may not read it).
   */
  async function authorize(client: WebClient, userId: string, caseId: string, need: 'agent' | 'admin'): Promise<void> {
    if (!membersNamed) return;
    const info = await client.users.info({ user: userId }).catch(() => undefined);
    const email = info?.user?.profile?.email?.toLowerCase();
    const kase = await service.teamsOf(caseId);
    const team = kase ? teams.get(kase.team) : undefined;
    const staff = team && Object.values(team.roster).some((p) => p?.slack === userId || (email && p?.email.toLowerCase() === email));
    const csm = email && kase ? await service.get(caseId).then((c) => c.csm.email.toLowerCase() === email, () => false) : false;
    const roles: Record<string, TeamRole> = email ? teams.rolesOf(email) : {};
    const principal = { name: userId, role: 'admin' as const, teams: roles };
    // The case's CSM and its team's roster act there as agents (an admin member stays admin).
    if (team && (staff || csm) && !holds(principal, team.id, 'agent')) roles[team.id] = 'agent';
    requireAct(principal, caseId, kase, need);
  }

  /** Tells only this user why their action was refused (or what became of a late one). */
  async function tellUser(client: WebClient, channel: string | undefined, user: string, message: string): Promise<void> {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text: message }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not tell the Slack user'));
  }

  /** Acts on the case as the Slack user; a refusal goes to that user alone, with the reason. */
  async function act(client: WebClient, o: { caseId: string; user: string; channel?: string; type: ActionType; args: Record<string, unknown> }) {
    try {
      await authorize(client, o.user, o.caseId, 'agent');
      const by = await actorOf(client, o.user, o.caseId);
      await service.act(o.caseId, o.type, { ...o.args, by } as never);
    } catch (err) {
      const http = toHttpError(err);
      log.info({ caseId: o.caseId, action: o.type, status: http.status, code: http.code }, 'slack action refused');
      await tellUser(client, o.channel, o.user, `:no_entry: Not done (${o.type.replace(/_/g, ' ')}): ${http.message}`);
    }
  }

  const [caseOf, choiceOf] = [(v: string) => v.split('|')[0], (v: string) => v.split('|').slice(1).join('|')];
  type Ctx = { ack: () => Promise<void>; body: { user: { id: string }; channel?: { id: string }; trigger_id?: string }; action: { value?: string; selected_option?: { value: string } }; client: WebClient };
  const onAction = (id: string, run: (c: Ctx, value: string) => Promise<void>) =>
    app.action(id, async (c) => {
      await c.ack(); // within Slack's 3 seconds: the work goes on after
      const ctx = c as unknown as Ctx;
      const value = ctx.action.value ?? ctx.action.selected_option?.value ?? '';
      await run(ctx, value).catch((err: unknown) => log.error({ err: (err as Error).message, action: id }, 'slack action failed'));
    });

  onAction(PANEL_ACTIONS.acknowledge, (c, v) => act(c.client, { caseId: v, user: c.body.user.id, channel: c.body.channel?.id, type: 'acknowledge', args: {} }));
  onAction(PANEL_ACTIONS.resume, (c, v) => act(c.client, { caseId: v, user: c.body.user.id, channel: c.body.channel?.id, type: 'resume', args: { note: 'Resumed from Slack' } }));
  onAction(PANEL_ACTIONS.pause, (c, v) => {
    const reason = choiceOf(v) as PauseReason;
    if (!PAUSE_REASONS.includes(reason)) return tellUser(c.client, c.body.channel?.id, c.body.user.id, 'Unknown pause reason');
    return act(c.client, { caseId: caseOf(v), user: c.body.user.id, channel: c.body.channel?.id, type: 'pause', args: { reason } });
  });
  onAction(PANEL_ACTIONS.escalate, async (c, v) => {
    const trigger = choiceOf(v) as InternalTrigger;
    if (!INTERNAL_TRIGGERS.includes(trigger)) return tellUser(c.client, c.body.channel?.id, c.body.user.id, 'Unknown trigger');
    await act(c.client, { caseId: caseOf(v), user: c.body.user.id, channel: c.body.channel?.id, type: 'internal_escalation', args: { trigger, note: 'Escalated from the case’s Slack thread' } });
  });
  onAction(PANEL_ACTIONS.update, (c, v) => c.client.views.open({ trigger_id: c.body.trigger_id!, view: updateModal(v, c.body.channel?.id) as never }).then(() => undefined));
  onAction(PANEL_ACTIONS.resolve, (c, v) => c.client.views.open({ trigger_id: c.body.trigger_id!, view: resolveModal(v, c.body.channel?.id) as never }).then(() => undefined));

  /**
   * A modal's submission: the case's answer decides the modal's (a refusal beside its field); past
   * `within` the modal closes and the user is told the outcome later, alone.
   */
  const onSubmit = (callbackId: string, blocks: readonly string[], run: (values: Values, meta: Record<string, string>, user: string, client: WebClient) => Promise<unknown>) =>
    app.view(callbackId, async ({ ack, view, body, client }) => {
      let meta: Record<string, string> = {};
      try {
        meta = JSON.parse(view.private_metadata || '{}') as Record<string, string>;
      } catch {
        return void (await ack({ response_action: 'errors', errors: { [blocks[0]]: 'This form is not one of ours: open it again from the case' } }));
      }
      const work = run(view.state.values as Values, meta, body.user.id, client).then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), within).unref());
      const first = await Promise.race([work, timer]);
      if (first === 'late') {
        await ack();
        const done = await work;
        if (!done.ok) await tellUser(client, meta.channel, body.user.id, `:no_entry: Not done: ${toHttpError(done.err).message}`);
        return;
      }
      if (first.ok) return void (await ack());
      const refused = fieldErrors(first.err, blocks);
      log.info({ callbackId, status: refused.status }, 'slack modal refused');
      await ack({ response_action: 'errors', errors: refused.errors });
    });

  const val = (v: Values, block: string) => {
    const x = v[block]?.value;
    if (!x) return undefined;
    if (x.selected_option) return x.selected_option.value;
    if (typeof x.selected_date_time === 'number') return new Date(x.selected_date_time * 1000).toISOString();
    return x.value ?? undefined;
  };
  onSubmit('escalation.update', blockIds(updateModal('')), async (v, meta, user, client) => {
    await authorize(client, user, meta.caseId, 'agent');
    const by = await actorOf(client, user, meta.caseId);
    await service.act(meta.caseId, 'update', { known: val(v, 'known')!, unknown: val(v, 'unknown'), workaround: val(v, 'workaround'), nextUpdateAt: val(v, 'nextUpdateAt'), by } as never);
  });
  onSubmit('escalation.resolve', blockIds(resolveModal('')), async (v, meta, user, client) => {
    await authorize(client, user, meta.caseId, 'agent');
    const by = await actorOf(client, user, meta.caseId);
    await service.act(meta.caseId, 'resolve', { rootCause: val(v, 'rootCause')!, fix: val(v, 'fix')!, prevention: val(v, 'prevention')!, by } as never);
  });
  onSubmit('escalation.open', blockIds(openModal('')), async (v, meta, user, client) => {
    // The caller is the CSM of the case they open: their name and email from Slack.
    const info = await client.users.info({ user }).catch(() => undefined);
    const csm = { name: info?.user?.real_name || info?.user?.name || user, email: info?.user?.profile?.email ?? '' };
    const body = openSchema.parse({
      customer: { id: val(v, 'customer.id'), name: val(v, 'customer.name'), segment: val(v, 'customer.segment'), arr: Number(val(v, 'customer.arr')), healthScore: Number(val(v, 'customer.healthScore')) },
      contact: { name: val(v, 'contact.name'), email: val(v, 'contact.email') },
      csm,
      severity: val(v, 'severity'),
      category: val(v, 'category'),
      trigger: val(v, 'trigger'),
      title: val(v, 'title'),
      impact: val(v, 'impact'),
    });
    // The case goes to the team whose channel the command came from, else the default team.
    const fromChannel = teams.ids.find((id) => teams.get(id).slackChannel === meta.channel);
    const team = service.teamForOpen(fromChannel ?? teams.openDefault);
    if (membersNamed && !holds({ name: user, role: 'admin', teams: teams.rolesOf(csm.email) }, team.id, 'agent')) {
      throw new HttpError(403, 'forbidden', `Opening a case in team ${team.id} needs the agent role there`, [{ field: 'team', message: 'not one of your teams as an agent' }]);
    }
    const opened = await service.open(body, undefined, team);
    await tellUser(client, meta.channel, user, `:white_check_mark: Opened \`${opened.case.id}\`: ${opened.case.title}. Next deadline: ${opened.case.nextDeadline?.kind ?? 'none'} by ${opened.case.nextDeadline?.dueAt ?? '—'}.`);
  });

  app.command('/escalation', async ({ command, ack, client }) => {
    const sub = command.text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    try {
      if (sub === 'open') {
        await ack();
        await client.views.open({ trigger_id: command.trigger_id, view: openModal(command.channel_id) as never });
        return;
      }
      if (sub === 'mine') {
        const info = await client.users.info({ user: command.user_id }).catch(() => undefined);
        const email = info?.user?.profile?.email;
        if (!email) return void (await ack({ response_type: 'ephemeral', text: 'Your Slack profile has no email, so your cases cannot be found.' }));
        const { items } = await service.list(parseQuery(listQuerySchema, { csm: email, status: 'open', sort: 'nextDeadline', limit: '20' }));
        const lines = items.map((c) => `• \`${c.id}\` ${c.title} — ${c.stage}${c.nextDeadline ? `, next deadline ${c.nextDeadline}` : ''}`);
        await ack({ response_type: 'ephemeral', text: lines.length ? `Your open cases, soonest deadline first:\n${lines.join('\n')}` : 'You have no open cases.' });
        return;
      }
      await ack({ response_type: 'ephemeral', text: HELP });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'slash command failed');
      await ack({ response_type: 'ephemeral', text: `:no_entry: ${toHttpError(err).message}` }).catch(() => undefined);
    }
  });

  app.error(async (err) => {
    log.error({ err: err.message }, 'slack handler error');
  });
  return router;
}
