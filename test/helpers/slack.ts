import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, string>;
}

async function body(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('json')) return JSON.parse(text || '{}') as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * A local HTTP server that speaks the Slack Web API's chat.postMessage: `xoxb-bad` is invalid_auth,
 * channel C404 is channel_not_found, and `rateLimitNext` answers 429 with Retry-After once.
 */
export async function startSlack() {
  const calls: SlackCall[] = [];
  const state = { rateLimitNext: 0, ts: 1_700_000_000 };
  const server = createServer((req, res) => {
    void (async () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
      const args = await body(req);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || args.token;
      calls.push({ method, token, args });
      const reply = (status: number, payload: object, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (state.rateLimitNext > 0) {
        state.rateLimitNext -= 1;
        return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '3' });
      }
      if (token === 'xoxb-bad') return reply(200, { ok: false, error: 'invalid_auth' });
      if (method !== 'chat.postMessage') return reply(200, { ok: false, error: 'unknown_method' });
      if (args.channel === 'C404') return reply(200, { ok: false, error: 'channel_not_found' });
      state.ts += 1;
      reply(200, { ok: true, channel: args.channel, ts: `${state.ts}.000100`, message: { text: args.text } });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type SlackFixture = Awaited<ReturnType<typeof startSlack>>;
