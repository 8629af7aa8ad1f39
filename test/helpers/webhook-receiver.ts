/**
 * A subscriber's HTTP server for the webhook tests: every request kept as it came (headers, raw body,
 * when), verified with the Standard Webhooks specification's own verifier, answered as each path's
 * script says (a status, a Retry-After, or no answer at all).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as the verifier returned it, or why it refused. */
  verified: { ok: true; payload: { type: string; timestamp: string; data: { sequence: number; case: Record<string, unknown> } & Record<string, unknown> } } | { ok: false; error: string };
}

/** What a path answers: a status (and Retry-After), or 'hang' to never answer. */
export type Answer = { status: number; retryAfter?: string } | 'hang';

export async function startReceiver(secret: string) {
  const received: Received[] = [];
  /** Per path: the answers to give in turn; the last one repeats. */
  const scripts = new Map<string, Answer[]>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: Received['verified'];
      try {
        verified = { ok: true, payload: new Webhook(secret).verify(body, req.headers as Record<string, string>) as never };
      } catch (err) {
        verified = { ok: false, error: (err as Error).message };
      }
      const path = req.url ?? '/';
      received.push({ path, at: Date.now(), headers: req.headers, body, verified });
      const script = scripts.get(path) ?? [{ status: 200 }];
      const answer = script.length > 1 ? script.shift()! : script[0];
      if (answer === 'hang') return void hanging.add(res);
      res.writeHead(answer.status, answer.retryAfter ? { 'retry-after': answer.retryAfter } : {});
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    /** The requests that reached a path, in order. */
    at: (path: string) => received.filter((r) => r.path === path),
    script(path: string, answers: Answer[]) {
      scripts.set(path, [...answers]);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A secret as the specification writes one: whsec_ and base64 of random bytes. */
export function newSecret(): string {
  return `whsec_${Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64')}`;
}
