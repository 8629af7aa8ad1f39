import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  at: number;
  status?: number;
  method: string;
  token: string | undefined;
  args: Record<string, unknown>;
  /** Which caller: the name in the URL the call came by (`apiUrlVia(name)`), if any. */
  via?: string;
}

/** A message as the channel holds it. */
export interface SlackMessage {
  ts: string;
  channel: string;
  text: string;
  blocks?: Record<string, unknown>[];
  /** How many times chat.update replaced it. */
  edits?: number;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('json')) return JSON.parse(text || '{}') as Record<string, unknown>;
  const form = Object.fromEntries(new URLSearchParams(text)) as Record<string, unknown>;
  // @slack/web-api sends objects (metadata) as JSON strings in form bodies.
  for (const [k, v] of Object.entries(form)) {
    if (typeof v !== 'string' || !/^[{[]/.test(v)) continue;
    try {
      form[k] = JSON.parse(v);
    } catch {
      // text that starts with a bracket ("[High] Acme …") stays text
    }
  }
  return form;
}

/**
 * A local HTTP server that speaks the Slack Web API's chat.postMessage, chat.getPermalink, conversations.history and
 * conversations.replies (with message metadata): `xoxb-bad` is invalid_auth, channel C404 is
 * channel_not_found, `delayMs` slows every answer, `rateLimitNext` answers 429 with Retry-After, `failAfterPostNext` keeps the
 * next post and then answers 500 (the post landed, the caller never heard), and `holdPostsWhen`
 * keeps a matching post and never answers until `releaseHeld()` (a sender killed mid-post).
 */
export async function startSlack() {
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const held: (() => void)[] = [];
  /** Messages only one user saw (chat.postEphemeral), and modals opened (views.open). */
  const ephemeral: { channel: string; user: string; text: string }[] = [];
  const views: { trigger_id: string; view: Record<string, unknown> }[] = [];
  /** The workspace's people: users.info and users.lookupByEmail read them. */
  const users: { id: string; name: string; email?: string }[] = [];
  const state = {
    rateLimitNext: 0,
    retryAfterSeconds: 3,
    failAfterPostNext: 0,
    /** false: the token lacks channels:history, so conversations.* answer missing_scope. */
    historyScope: true,
    holdPostsWhen: undefined as ((m: SlackMessage) => boolean) | undefined,
    /** Every answer waits this long (a slow Slack); the call is recorded when it arrives. */
    delayMs: 0,
    onHeld: undefined as ((m: SlackMessage) => void) | undefined,
    ts: 1_700_000_000,
  };
  const server = createServer((req, res) => {
    void (async () => {
      const via = /^\/via-([\w-]+)\//.exec(req.url ?? '')?.[1];
      const method = (req.url ?? '').replace(/^\/via-[\w-]+/, '').replace(/^\/api\//, '').split('?')[0];
      const args = await body(req);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || (args.token as string | undefined);
      const call: SlackCall = { at: Date.now(), method, token, args, ...(via ? { via } : {}) };
      calls.push(call);
      const reply = (status: number, payload: object, headers: Record<string, string> = {}) => {
        call.status = status;
        const answer = () => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(payload));
        };
        if (state.delayMs > 0) setTimeout(answer, state.delayMs);
        else answer();
      };
      if (state.rateLimitNext > 0) {
        state.rateLimitNext -= 1;
        return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(state.retryAfterSeconds) });
      }
      if (token === 'xoxb-bad') return reply(200, { ok: false, error: 'invalid_auth' });
      if (args.channel === 'C404') return reply(200, { ok: false, error: 'channel_not_found' });
      if (method.startsWith('conversations.') && !state.historyScope) return reply(200, { ok: false, error: 'missing_scope' });
      if (method === 'conversations.history') {
        const top = messages.filter((m) => m.channel === args.channel && !m.thread_ts).reverse();
        return reply(200, { ok: true, messages: top.slice(0, Number(args.limit ?? 100)).map(withMeta(args)) });
      }
      if (method === 'conversations.replies') {
        const thread = messages.filter((m) => m.channel === args.channel && (m.ts === args.ts || m.thread_ts === args.ts));
        if (thread.length === 0) return reply(200, { ok: false, error: 'thread_not_found' });
        return reply(200, { ok: true, messages: thread.slice(0, Number(args.limit ?? 100)).map(withMeta(args)) });
      }
      if (method === 'auth.test') return reply(200, { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' });
      if (method === 'chat.update') {
        const m = messages.find((x) => x.channel === args.channel && x.ts === args.ts);
        if (!m) return reply(200, { ok: false, error: 'message_not_found' });
        m.text = String(args.text);
        if (args.blocks) m.blocks = args.blocks as Record<string, unknown>[];
        m.edits = (m.edits ?? 0) + 1;
        return reply(200, { ok: true, channel: m.channel, ts: m.ts });
      }
      if (method === 'chat.getPermalink') {
        const m = messages.find((x) => x.channel === args.channel && x.ts === args.message_ts);
        if (!m) return reply(200, { ok: false, error: 'message_not_found' });
        return reply(200, { ok: true, channel: m.channel, permalink: `https://example.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}` });
      }
      if (method === 'chat.postEphemeral') {
        ephemeral.push({ channel: String(args.channel), user: String(args.user), text: String(args.text) });
        return reply(200, { ok: true, message_ts: `${state.ts}.000200` });
      }
      if (method === 'views.open') {
        views.push({ trigger_id: String(args.trigger_id), view: args.view as Record<string, unknown> });
        return reply(200, { ok: true, view: { id: `V${views.length}`, ...(args.view as object) } });
      }
      if (method === 'users.info') {
        const u = users.find((x) => x.id === args.user);
        return u ? reply(200, { ok: true, user: { id: u.id, name: u.name, real_name: u.name, profile: { email: u.email, real_name: u.name } } }) : reply(200, { ok: false, error: 'user_not_found' });
      }
      if (method === 'users.lookupByEmail') {
        const u = users.find((x) => x.email === args.email);
        return u ? reply(200, { ok: true, user: { id: u.id, name: u.name, profile: { email: u.email } } }) : reply(200, { ok: false, error: 'users_not_found' });
      }
      if (method !== 'chat.postMessage') return reply(200, { ok: false, error: 'unknown_method' });
      state.ts += 1;
      const message: SlackMessage = {
        ts: `${state.ts}.000100`,
        channel: String(args.channel),
        text: String(args.text),
        ...(args.blocks ? { blocks: args.blocks as Record<string, unknown>[] } : {}),
        ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
        ...(args.metadata ? { metadata: args.metadata as SlackMessage['metadata'] } : {}),
      };
      messages.push(message);
      if (state.holdPostsWhen?.(message)) {
        held.push(() => res.destroy());
        state.onHeld?.(message);
        return;
      }
      if (state.failAfterPostNext > 0) {
        state.failAfterPostNext -= 1;
        return reply(500, { ok: false, error: 'internal_error' });
      }
      reply(200, { ok: true, channel: message.channel, ts: message.ts, message: { text: message.text } });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    /** The same API at a URL that names its caller: each call it takes records `via: name`. */
    apiUrlVia: (name: string) => `http://127.0.0.1:${port}/via-${name}/api/`,
    calls,
    messages,
    ephemeral,
    views,
    users,
    state,
    /** Top-level posts of a case (each one starts a thread). */
    roots: (caseId: string) => messages.filter((m) => !m.thread_ts && m.metadata?.event_payload.case_id === caseId),
    releaseHeld: () => held.splice(0).forEach((f) => f()),
    close: () =>
      new Promise<void>((r) => {
        held.splice(0).forEach((f) => f());
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type SlackFixture = Awaited<ReturnType<typeof startSlack>>;

/** Metadata is only returned when asked for, as Slack does. */
const withMeta = (args: Record<string, unknown>) => (m: SlackMessage) => {
  const { metadata, ...rest } = m;
  return args.include_all_metadata === true || args.include_all_metadata === 'true' ? m : rest;
};
