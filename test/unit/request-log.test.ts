/** The API's request lines: one per request, its level by method and status, nothing built for a line that is off. */
import express from 'express';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { requestLevel, requestLog } from '../../api/request-log';
import { waitUntil } from '../helpers/processes';

function app(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const a = express();
  a.use(requestLog(logger));
  a.get('/healthz', (_req, res) => void res.send('ok'));
  a.get('/cases/:id', (_req, res) => void res.json({ ok: true }));
  a.post('/cases/:id/notes', (req, res) => void res.status(req.query.fail ? 500 : 200).json({}));
  a.get('/links/:token', (_req, res) => void res.status(404).send('gone'));
  a.get('/slow', (_req, res) => void setTimeout(() => res.end('late'), 2_000).unref());
  return { a, lines };
}

async function serve(a: express.Express) {
  const server = a.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}


test('levels: reads that succeed at debug, changes and refusals at info, 5xx at error', () => {
  expect([requestLevel('GET', 200), requestLevel('HEAD', 304), requestLevel('GET', 404), requestLevel('POST', 200), requestLevel('POST', 503), requestLevel('GET', 500)]).toEqual(['debug', 'debug', 'info', 'info', 'error', 'error']);
});

test('at info: a change, a refusal and a failure are lines with method, redacted url, status, time and case; a read and /healthz are not', async () => {
  const { a, lines } = app('info');
  const s = await serve(a);
  try {
    await fetch(`${s.base}/cases/c-1`);
    await fetch(`${s.base}/healthz`);
    await fetch(`${s.base}/cases/c-2/notes`, { method: 'POST' });
    await fetch(`${s.base}/cases/c-3/notes?fail=1`, { method: 'POST' });
    await fetch(`${s.base}/LINKS/abc.def.secretsignature`);
    await fetch(`${s.base}/cases/c-4/notes`, { method: 'POST' });
    await waitUntil(() => lines.length, (n) => n >= 4, 'four lines', 5_000);
    const seen = lines.map((l) => [l.level, l.msg, (l.req as { url: string }).url, (l.res as { statusCode: number }).statusCode, l.caseId]);
    expect(seen.sort((x, y) => String(x[2]).localeCompare(String(y[2])))).toEqual([
      [30, 'request completed', '/cases/c-2/notes', 200, 'c-2'],
      [50, 'request errored', '/cases/c-3/notes?fail=1', 500, 'c-3'],
      [30, 'request completed', '/cases/c-4/notes', 200, 'c-4'],
      [30, 'request completed', '/links/[redacted]', 404, undefined],
    ]);
    for (const l of lines) expect(typeof l.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secretsignature');
  } finally {
    await s.close();
  }
});

test('at debug the reads are there too; a client that hangs up before the answer is a line of its own', async () => {
  const { a, lines } = app('debug');
  const s = await serve(a);
  try {
    await fetch(`${s.base}/cases/c-1`);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${s.base}/slow`);
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 200);
    });
    await waitUntil(() => lines.length, (n) => n >= 2, 'two lines', 5_000);
    expect(lines.map((l) => [l.level, l.msg, (l.req as { url: string }).url]).sort((x, y) => String(x[2]).localeCompare(String(y[2])))).toEqual([
      [20, 'request completed', '/cases/c-1'],
      [30, 'request aborted', '/slow'],
    ]);
  } finally {
    await s.close();
  }
});
