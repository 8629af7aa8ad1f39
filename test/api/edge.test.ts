/**
 * The HTTP edge: every input the generated-input run found answering 5xx, each as it was measured,
 * and the rules around them (unknown parameters, public endpoints, tokens in logs).
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ServiceError } from '@temporalio/client';
import { signLink } from '../../config/links';
import { redactTokens, toHttpError } from '../../api/errors';
import { createApp } from '../../api/app';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { LINK_SECRET, eventually, openBody, startSystem, type System } from '../helpers/system';

const logLines: string[] = [];
let sys: System;
beforeAll(async () => {
  sys = await startSystem({ logLines });
}, 120_000);
afterAll(() => sys?.stop());

/** A raw request: any method, path bytes, headers and body, as a hostile client sends them. */
function raw(method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer | string) {
  const url = new URL(sys.base);
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const AUTH = { authorization: 'Bearer admin-key-0123456789abcdef' };
/** A case walked to where the customer's CSAT link applies (follow-up). */
async function caseInFollowUp(): Promise<string> {
  const id = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody() })).body.id as string;
  const next = new Date(Date.now() + 3_600_000).toISOString();
  for (const [path, body] of [['acknowledge', { nextUpdateAt: next }], ['resolve', { rootCause: 'a', fix: 'b', prevention: 'c' }], ['confirmation', { resolved: true }]] as const) {
    expect((await sys.call('POST', `/escalations/${id}/${path}`, { key: 'agent', body })).status).toBe(200);
  }
  return id;
}
const errorCode = (r: { body: string }) => (JSON.parse(r.body) as { error: { code: string } }).error.code;

describe('every input the generated run answered with 5xx', () => {
  test.each(['/escalations/%E0%A4%A', '/links/%ZZ', '/escalations/abc/tasks/%ZZ/complete'])('malformed %%-encoding in a path part (%s) is a 400', async (path) => {
    const r = await raw(path.includes('complete') ? 'POST' : 'GET', path, AUTH);
    expect([r.status, errorCode(r)]).toEqual([400, 'invalid_path']);
  });

  test.each(['application/json; charset=latin1', 'application/json; charset=klingon'])('Content-Type %s is a 415', async (type) => {
    const r = await raw('POST', '/escalations', { ...AUTH, 'content-type': type }, JSON.stringify(openBody()));
    expect([r.status, errorCode(r)]).toEqual([415, 'unsupported_media_type']);
  });

  test('an unknown Content-Encoding is a 415; gzip, deflate or br on a body that is not compressed is a 400', async () => {
    const body = JSON.stringify(openBody());
    const unknown = await raw('POST', '/escalations', { ...AUTH, 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, body);
    expect([unknown.status, errorCode(unknown)]).toEqual([415, 'unsupported_media_type']);
    for (const enc of ['gzip', 'deflate', 'br']) {
      const r = await raw('POST', '/escalations', { ...AUTH, 'content-type': 'application/json', 'content-encoding': enc }, body);
      expect([enc, r.status]).toEqual([enc, 400]);
    }
    // A body that really is gzipped is read.
    const gz = await raw('POST', '/escalations', { ...AUTH, 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(body));
    expect(gz.status).toBe(201);
  });

  test.each(['-1', '0x10', '1e309', 'AAAA', 'AAAA.0000000000000000'])('cursor=%s is a 400 naming the cursor', async (cursor) => {
    const r = await raw('GET', `/escalations?cursor=${encodeURIComponent(cursor)}`, AUTH);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.details).toEqual([expect.objectContaining({ field: 'cursor' })]);
  });

  test('a cursor works only with the filters it came from', async () => {
    for (let i = 0; i < 3; i++) await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: 'cursor-co' } }) });
    const first = await eventually(() => sys.call('GET', '/escalations?customerId=cursor-co&limit=2', { key: 'viewer' }), (r) => r.body.nextCursor !== null, 'a second page');
    const next = await sys.call('GET', `/escalations?customerId=cursor-co&limit=2&cursor=${first.body.nextCursor}`, { key: 'viewer' });
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
    const other = await sys.call('GET', `/escalations?customerId=other-co&limit=2&cursor=${first.body.nextCursor}`, { key: 'viewer' });
    expect(other.status).toBe(400);
  });

  test.each(['%00', '%1B%5B2J', 'a%0Db', '%7F'])('control characters in a filter (customerId=%s) are a 400 before Temporal sees them', async (v) => {
    const r = await raw('GET', `/escalations?customerId=${v}`, AUTH);
    expect(r.status).toBe(400);
    expect(r.headers['retry-after']).toBeUndefined();
  });

  test('POST on a customer link with no body, multipart or plain text is never a 5xx', async () => {
    const csat = signLink(LINK_SECRET, { caseId: await caseInFollowUp(), action: 'csat' });
    const none = await raw('POST', `/links/${csat}`);
    const multipart = await raw('POST', `/links/${csat}`, { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="score"\r\n\r\n9\r\n--x--\r\n');
    const text = await raw('POST', `/links/${csat}`, { 'content-type': 'text/plain' }, 'score=9');
    for (const r of [none, multipart, text]) expect(r.status).toBeLessThan(500);
    expect([none.status, multipart.status, text.status]).toEqual([400, 400, 400]);
  });

  test('an urlencoded body of 1,200 parameters is a 413', async () => {
    const body = Array.from({ length: 1200 }, (_, i) => `p${i}=1`).join('&');
    const r = await raw('POST', '/escalations', { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect([r.status, errorCode(r)]).toEqual([413, 'too_large']);
  });

  test('Temporal failing a call on its side (gRPC UNKNOWN, ABORTED, INTERNAL: a store call cancelled under load) is a 503 with Retry-After that says so, not a 500', () => {
    for (const [code, name] of [[2, 'UNKNOWN'], [10, 'ABORTED'], [13, 'INTERNAL']] as const) {
      const failed = new ServiceError('Failed to update workflow', { cause: Object.assign(new Error(`${code} ${name}: context canceled`), { code, details: 'context canceled', metadata: {} }) });
      const e = toHttpError(failed);
      expect([e.status, e.code, e.headers['Retry-After'], e.message]).toEqual([503, 'temporal_unavailable', '5', expect.stringContaining('context canceled')]);
    }
    // Our own code's errors stay 500: they are bugs to find, not Temporal's weather.
    expect(toHttpError(new TypeError('x is undefined')).status).toBe(500);
  });

  test('a gRPC CANCELLED (our own deadline with no worker) is a 503 with Retry-After, not a 500', () => {
    const cancelled = new ServiceError('cancelled', { cause: Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: 1, details: 'Cancelled on client', metadata: {} }) });
    const e = toHttpError(cancelled);
    expect([e.status, e.code, e.headers['Retry-After']]).toEqual([503, 'temporal_unavailable', '5']);
  });
});

describe('the query string', () => {
  test('an unknown parameter is a 400 naming it; a repeated one too', async () => {
    const r = await sys.call('GET', '/escalations?csmm=sam@vendor.example&stage=acknowledge', { key: 'viewer' });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'csmm' })]);
    const twice = await sys.call('GET', '/escalations?stage=acknowledge&stage=closed', { key: 'viewer' });
    expect([twice.status, twice.body.error.details[0].field]).toEqual([400, 'stage']);
    const report = await sys.call('GET', '/reports/escalations?segmnt=smb', { key: 'viewer' });
    expect([report.status, report.body.error.details[0].field]).toEqual([400, 'segmnt']);
  });

  test('?csm= lists that CSM’s cases only; sort=nextDeadline puts the soonest first and cases without one last', async () => {
    const csm = { name: 'Robin Sort', email: `robin.${Date.now()}@vendor.example` };
    const open = async (severity: string) => (await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ csm, severity }) })).body.id as string;
    const low = await open('low');
    // Acknowledged: its next deadline moves from the hour every case has to acknowledge to a day away.
    await sys.call('POST', `/escalations/${low}/acknowledge`, { key: 'agent', body: { nextUpdateAt: new Date(Date.now() + 10 * 3_600_000).toISOString() } });
    const critical = await open('critical');
    const closed = await open('high');
    await sys.call('POST', `/escalations/${closed}/close`, { key: 'admin', body: { reason: 'duplicate' } });
    const r = await eventually(
      () => sys.call('GET', `/escalations?csm=${encodeURIComponent(csm.email)}&sort=nextDeadline`, { key: 'viewer' }),
      (x) => x.body.items?.length === 3 && x.body.items.some((i: { status: string }) => i.status === 'closed'),
      'three cases of the CSM',
    );
    expect(r.body.items.map((i: { id: string }) => i.id)).toEqual([critical, low, closed]);
    expect(r.body.items.every((i: { csm: string }) => i.csm === csm.email)).toBe(true);
    const page = await sys.call('GET', `/escalations?csm=${encodeURIComponent(csm.email)}&sort=nextDeadline&limit=2`, { key: 'viewer' });
    const rest = await sys.call('GET', `/escalations?csm=${encodeURIComponent(csm.email)}&sort=nextDeadline&limit=2&cursor=${page.body.nextCursor}`, { key: 'viewer' });
    expect([...page.body.items, ...rest.body.items].map((i: { id: string }) => i.id)).toEqual([critical, low, closed]);
    expect((await sys.call('GET', '/escalations?csm=not-an-email', { key: 'viewer' })).status).toBe(400);
  });
});

describe('credentials and logs', () => {
  test('public endpoints ignore credentials, even wrong ones', async () => {
    const wrong = { authorization: 'Bearer not-a-key-not-a-key' };
    const c = { id: await caseInFollowUp() };
    const link = signLink(LINK_SECRET, { caseId: c.id, action: 'csat' });
    for (const path of ['/healthz', '/openapi.json', '/docs/', `/links/${link}`]) {
      const r = await raw('GET', path, wrong);
      expect([path, r.status]).toEqual([path, 200]);
    }
    expect((await raw('GET', `/escalations/${c.id}`, wrong)).status).toBe(401);
  });

  test('no link token in any log line: any case of the path, a repeated parameter, any status', async () => {
    const c = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody() })).body;
    const token = signLink(LINK_SECRET, { caseId: c.id, action: 'confirm' });
    await raw('GET', `/links/${token}`);
    await raw('GET', `/LINKS/${token}`);
    await raw('GET', `/Links/${token}?token=${token}&TOKEN=${token}`);
    await raw('POST', `/escalations/${c.id}/confirmation?token=${token}&token=${token}`, { 'content-type': 'application/json' }, '{"resolved":true}');
    await raw('POST', `/escalations/${c.id}/confirmation?token=${token}`, { 'content-type': 'application/json' }, '{"resolved":true}');
    await raw('GET', `/links/${token.slice(0, 20)}%ZZ${token.slice(20)}`);
    expect(logLines.length).toBeGreaterThan(4);
    const secret = token.split('.')[2]; // the signature: a part that never appears elsewhere
    expect(logLines.filter((l) => l.includes(secret) || l.includes(token.slice(0, 40)))).toEqual([]);
  });

  test('a request line is short: method, url, status, time and case, not the response headers; reads at debug', async () => {
    const c = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody() })).body;
    const from = logLines.length;
    await sys.call('POST', `/escalations/${c.id}/notes`, { key: 'agent', body: { text: 'a note' } });
    await sys.call('GET', `/escalations/${c.id}`, { key: 'viewer' });
    const lines = logLines.slice(from).map((l) => JSON.parse(l));
    const line = lines.find((j) => j.req?.url === `/escalations/${c.id}/notes`);
    expect(line).toMatchObject({ level: 30, req: { method: 'POST' }, res: { statusCode: 200 }, caseId: c.id });
    expect(typeof line.responseTime).toBe('number');
    expect(line.res.headers).toBeUndefined();
    expect(JSON.stringify(line).length).toBeLessThan(400);
    expect(lines.filter((j) => j.req?.method === 'GET')).toEqual([]); // logged at debug
    await sys.call('GET', `/escalations/no-such-case`, { key: 'viewer' });
    expect(logLines.slice(from).map((l) => JSON.parse(l)).find((j) => j.req?.url === '/escalations/no-such-case')).toMatchObject({ level: 30, res: { statusCode: 404 } });
  });

  test('redaction covers every form a token can take in a URL', () => {
    expect(redactTokens('/LINKS/abc.def.ghi?x=1')).toBe('/links/[redacted]?x=1');
    expect(redactTokens('/escalations/c/csat?token=a&Token=b;token=c')).toBe('/escalations/c/csat?token=[redacted]&Token=[redacted];token=[redacted]');
    expect(redactTokens('/links/a/links/b')).toBe('/links/[redacted]/links/[redacted]');
  });
});

describe('customer pages for people', () => {
  const page = async (method: string, token: string, form?: string) => {
    const r = await raw(method, `/links/${token}`, form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }, form);
    const heading = /<h1>([^<]*)<\/h1>/.exec(r.body)?.[1] ?? '';
    return { status: r.status, heading: heading.replace(/&#x27;|&#39;/g, "'"), body: r.body, html: /^<!doctype html>/i.test(r.body) };
  };

  test('CSAT: no score preselected; one score per link; every outcome is a page, never raw JSON', async () => {
    const id = await caseInFollowUp();
    const token = signLink(LINK_SECRET, { caseId: id, action: 'csat' });
    const shown = await page('GET', token);
    expect([shown.status, shown.heading]).toEqual([200, 'How did we do?']);
    expect(shown.body.match(/type="radio" name="score"/g)).toHaveLength(11);
    expect(shown.body).not.toMatch(/checked|selected/);
    const missing = await page('POST', token, 'comment=no+score');
    expect([missing.status, missing.heading, missing.html]).toEqual([400, 'Please check your answer', true]);
    const rated = await page('POST', token, 'score=9&comment=Great');
    expect([rated.status, rated.heading]).toEqual([200, 'Thank you']);
    const again = await page('POST', token, 'score=0');
    expect([again.status, again.heading, again.html]).toEqual([409, 'Already recorded', true]);
    const later = await page('GET', token);
    expect([later.status, later.heading]).toEqual([409, 'Already recorded']);
    expect(later.body).not.toContain('<form');
    const v = (await sys.call('GET', `/escalations/${id}`, { key: 'viewer' })).body;
    expect(v.csat).toMatchObject({ score: 9, comment: 'Great' });
  });

  test('a confirm link answers for the resolution it was sent with, once; expired and broken links get their page', async () => {
    const id = await caseInFollowUp(); // confirmed already
    const used = await page('GET', signLink(LINK_SECRET, { caseId: id, action: 'confirm' }));
    expect([used.status, used.heading]).toEqual([409, 'Already recorded']);
    expect(used.body).not.toContain('<form');

    const c = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody() })).body.id as string;
    const early = await page('GET', signLink(LINK_SECRET, { caseId: c, action: 'confirm' }));
    expect([early.status, early.heading]).toEqual([409, 'Nothing to do here now']);
    const act = (path: string, body: object) => sys.call('POST', `/escalations/${c}/${path}`, { key: 'agent', body });
    await act('acknowledge', { nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString() });
    await act('resolve', { rootCause: 'a', fix: 'b', prevention: 'c' });
    const first = (await sys.call('GET', `/escalations/${c}`, { key: 'viewer' })).body.resolvedAt as string;
    const oldConfirm = signLink(LINK_SECRET, { caseId: c, action: 'confirm', resolution: first });
    const notFixed = signLink(LINK_SECRET, { caseId: c, action: 'not_fixed', resolution: first });
    expect((await page('GET', oldConfirm)).heading).toBe('Is everything working?');
    expect((await page('POST', notFixed, 'comment=still+broken')).heading).toBe('Thank you');
    expect((await page('POST', notFixed, 'comment=again')).heading).toBe('Already recorded');
    await act('updates', { known: 'k', nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString() });
    await act('resolve', { rootCause: 'a2', fix: 'b2', prevention: 'c2' });
    const stale = await page('POST', oldConfirm, '');
    expect([stale.status, stale.heading]).toEqual([409, 'This link is from an earlier email']);
    expect((await sys.call('GET', `/escalations/${c}`, { key: 'viewer' })).body.stage).toBe('resolve');
    const second = (await sys.call('GET', `/escalations/${c}`, { key: 'viewer' })).body.resolvedAt as string;
    expect((await page('POST', signLink(LINK_SECRET, { caseId: c, action: 'confirm', resolution: second }), '')).heading).toBe('Thank you');

    const expired = signLink(LINK_SECRET, { caseId: c, action: 'confirm', ttlSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) - 3600 });
    expect(await page('POST', expired, '')).toMatchObject({ status: 403, heading: 'This link has expired', html: true });
    expect(await page('GET', 'not.a.token')).toMatchObject({ status: 403, heading: 'This link is not valid', html: true });
  });

  test('the Content-Security-Policy upgrades requests only where the service is served over https', async () => {
    const r = await raw('GET', '/docs/');
    expect(String(r.headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
    expect(r.headers['strict-transport-security']).toBeUndefined();
    const app = createApp({ service: {} as never, keys: [], linkSecret: LINK_SECRET, logger: pino({ level: 'silent' }), publicBaseUrl: 'https://esc.example.com' });
    const server = app.listen(0);
    await new Promise((ok) => server.once('listening', ok));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`);
    server.close();
    expect(res.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
    expect(res.headers.get('strict-transport-security')).not.toBeNull();
  });

  // Last: it spends the links' rate limit of this client.
  test('past the links’ rate limit a person gets a page, an API client the JSON error', async () => {
    let last = { status: 0, heading: '', html: false, body: '' };
    for (let i = 0; i < 40 && last.status !== 429; i++) last = await page('GET', 'not.a.token');
    expect([last.status, last.heading, last.html]).toEqual([429, 'Too many tries', true]);
    const json = await raw('POST', '/links/not.a.token', { 'content-type': 'application/json' }, '{}');
    expect([json.status, errorCode(json)]).toEqual([429, 'rate_limited']);
  });
});
