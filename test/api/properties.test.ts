/**
 * Generated requests against the real API, worker and dev server: for every endpoint, 1,000 requests
 * over paths, content types and encodings, query strings, bodies and headers. None may answer 5xx; a
 * refused one changes nothing (the number of cases, and a target case's view); the service is healthy
 * afterwards. Deterministic: a fixed seed per endpoint (FC_SEED=<n> explores others).
 *
 * With two teams: the target is team amer's. Keys scoped to team emea (no role in the target's team)
 * are generated too: whatever they send, they read nothing of the target (its view is a 404, lists
 * leave it out) and change nothing of it.
 */
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { signLink, signStatusLink } from '../../config/links';
import { KEYS, LINK_SECRET, openBody, startSystem, type System } from '../helpers/system';
import { resolveTeams } from '../../config/teams';
import { DEFAULT_ROSTER } from '../../config/settings';
import { DEFAULT_POLICY } from '../../playbook';

const { teams } = resolveTeams(
  { amer: { name: 'Americas', roster: {}, slack: { channel: 'C0AMER' }, policy: {}, members: {} }, emea: { name: 'EMEA', roster: {}, slack: { channel: 'C0EMEA' }, policy: { acknowledgeWithin: '30m' }, members: {} } },
  'amer',
  { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } },
  [],
);
/** Keys holding their role in team emea only: the target (team amer's) does not exist for them. */
const OUTSIDERS = (['viewer', 'agent', 'admin'] as const).map((role) => ({ role, key: `${role}-emea-key-0123456789abcdef` }));
const outsider = (authorization: string | undefined) => OUTSIDERS.some((o) => authorization === `Bearer ${o.key}`);

const RUNS = 1_000;
let sys: System;
let target: string;
const statuses: Record<string, Record<number, number>> = {};
beforeAll(async () => {
  // The links' rate limit (30 a minute) would answer most generated link requests with 429.
  sys = await startSystem({ linkRequestsPerMinute: 100_000, teams, moreKeys: OUTSIDERS.map((o) => `${o.role}-emea:${o.role}:${o.key}:emea`) });
  target = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody() })).body.id;
}, 120_000);
afterAll(() => {
  console.log(`generated requests per endpoint and their statuses:\n${Object.entries(statuses).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}`);
  return sys?.stop();
});

function send(method: string, path: string, headers: Record<string, string>, body?: Buffer) {
  const url = new URL(sys.base);
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** The case count (all pages) and the target's timeline length: what a refused request must not change. */
async function snapshot() {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { body: { items: unknown[]; nextCursor: string | null } } = await sys.call('GET', `/escalations?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key: 'viewer' });
    count += page.body.items.length;
    cursor = page.body.nextCursor;
  } while (cursor);
  const view = (await sys.call('GET', `/escalations/${target}`, { key: 'viewer' })).body;
  return { count, timeline: view.timeline.length as number, stage: view.stage as string };
}

// ---- generators --------------------------------------------------------------------------------

const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('%', '%ZZ', '%E0%A4%A', '%00', '..%2f..%2f', '%2e%2e', '\u0000', 'é', '💥', ' ', '', 'null', '[]', '{}', '-1', '1e309', '0x10'),
);
/** Percent-encodes every byte but the unreserved ones (works for lone surrogates too: they become U+FFFD). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
/** A path segment: the target case, a plausible id, or bytes that may not even be valid %-encoding. */
const segment = fc.oneof(
  fc.constant('TARGET'),
  fc.stringMatching(/^[\w.-]{1,20}$/),
  nasty.map(pct),
  nasty.map((s) => s.replace(/[^\x21-\x7e]/g, (c) => pct(c)).replace(/[?#/]/g, '%2F')),
  fc.constantFrom('%ZZ', '%E0%A4%A', '%', '%C0%80'),
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** Bodies: valid ones with a field broken, any JSON, or bytes. */
function bodies(valid: Record<string, unknown>) {
  const keys = Object.keys(valid).length ? Object.keys(valid) : ['x'];
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: fc.oneof(jsonValue, nasty) }).map(({ key, value }) => JSON.stringify({ ...valid, [key]: value })),
    fc.constant(JSON.stringify(valid)),
    jsonValue.map((v) => JSON.stringify(v)),
    fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), fc.oneof(jsonValue, nasty), { maxKeys: 6 }).map((d) => JSON.stringify(d)),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.constant(''),
  );
}
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/plain',
  'message/rfc822',
  'application/octet-stream',
  'garbage',
  '',
);
const encoding = fc.constantFrom('', '', '', 'gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, deflate');
/** Compresses as claimed, or lies about it. */
function encode(body: string, enc: string, honest: boolean): Buffer {
  const raw = Buffer.from(body, 'utf8');
  if (!honest) return raw;
  if (enc === 'gzip') return gzipSync(raw);
  if (enc === 'deflate') return deflateSync(raw);
  if (enc === 'br') return brotliCompressSync(raw);
  return raw;
}
const auth = fc.constantFrom<string | undefined>(
  `Bearer ${KEYS.admin}`,
  `Bearer ${KEYS.agent}`,
  `Bearer ${KEYS.viewer}`,
  `Bearer ${KEYS.inbound}`,
  ...OUTSIDERS.map((o) => `Bearer ${o.key}`),
  'Bearer wrong-key-wrong-key-1234',
  'Basic YWRtaW46YWRtaW4=',
  'Bearer',
  undefined,
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('stage', 'severity', 'customerId', 'csm', 'breached', 'status', 'sort', 'cursor', 'limit', 'from', 'to', 'segment', 'token', 'team'), fc.string({ maxLength: 6 })), nasty), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}` : ''));

// ---- endpoints ---------------------------------------------------------------------------------

const valid = {
  acknowledge: { nextUpdateAt: '2030-01-01T00:00:00Z' },
  notes: { text: 'a note', kind: 'investigation' },
  updates: { known: 'k', nextUpdateAt: '2030-01-01T00:00:00Z' },
  severity: { severity: 'high', reason: 'r' },
  'internal-escalations': { trigger: 'product_gap', note: 'n' },
  resolve: { rootCause: 'a', fix: 'b', prevention: 'c' },
  confirmation: { resolved: true },
  'tasks/follow_up/complete': { notes: 'n' },
  csat: { score: 9 },
  outcome: { churned: false },
  close: { reason: 'r' },
  pause: { reason: 'waiting_on_customer', until: '2030-01-01T00:00:00Z' },
  resume: { note: 'n' },
  // To the team it is in (409): a generated transfer that moved the target would change whom it exists for.
  transfer: { team: 'amer', reason: 'r' },
  'status-link/rotate': {},
};
/** Raw emails: a reply threaded to the target (or to nothing), with any headers and text. */
const emails = fc
  .record({
    ref: fc.oneof(fc.constant('TARGET'), nasty, fc.constant('<escalation-nope.m1@vendor.example>')),
    from: fc.oneof(fc.constant('pat@customer.example'), nasty),
    to: fc.oneof(fc.constant('escalations+TARGET@vendor.example'), nasty),
    text: fc.oneof(fc.constant('It works now, thanks.'), nasty, fc.string({ maxLength: 300 })),
    type: fc.constantFrom('text/plain; charset=utf-8', 'text/html', 'multipart/alternative; boundary=zz', 'text/plain; charset=x-unknown', nasty as unknown as fc.Arbitrary<string>),
  })
  .map((m) => {
    const ref = m.ref === 'TARGET' ? `<escalation-${target}.m1@vendor.example>` : m.ref;
    const to = m.to.replace('TARGET', target);
    return [`From: ${m.from}`, `To: ${to}`, `In-Reply-To: ${ref}`, `References: ${ref}`, 'Subject: Re: case', `Content-Type: ${m.type}`, '', m.text].join('\r\n');
  });
const ENDPOINTS: { name: string; method: string; path: (seg: string) => string; body?: Record<string, unknown>; raw?: fc.Arbitrary<string>; type?: fc.Arbitrary<string>; auth?: fc.Arbitrary<string | undefined>; mutates?: boolean }[] = [
  { name: 'POST /escalations', method: 'POST', path: () => '/escalations', body: openBody() },
  { name: 'GET /escalations', method: 'GET', path: () => '/escalations' },
  { name: 'GET /escalations/{id}', method: 'GET', path: (s) => `/escalations/${s}` },
  ...Object.entries(valid).map(([p, body]) => ({ name: `POST /escalations/{id}/${p}`, method: 'POST', path: (s: string) => `/escalations/${s}/${p}`, body, mutates: true })),
  { name: 'GET /reports/escalations', method: 'GET', path: () => '/reports/escalations' },
  { name: 'GET /links/{token}', method: 'GET', path: (s) => `/links/${s}` },
  { name: 'GET /status/{token}', method: 'GET', path: (s) => `/status/${s}` },
  { name: 'POST /links/{token}', method: 'POST', path: (s) => `/links/${s}`, body: { score: 9 } },
  // Mostly well-typed and well-keyed, so most requests reach the email parser and the matching.
  {
    name: 'POST /inbound/email',
    method: 'POST',
    path: () => '/inbound/email',
    raw: fc.oneof(emails, bodies({})),
    type: fc.oneof({ arbitrary: fc.constant('message/rfc822'), weight: 3 }, { arbitrary: contentType, weight: 1 }),
    auth: fc.oneof({ arbitrary: fc.constant<string | undefined>(`Bearer ${KEYS.inbound}`), weight: 3 }, { arbitrary: auth, weight: 1 }),
    mutates: true,
  },
  { name: 'GET /healthz', method: 'GET', path: () => '/healthz' },
];

const seedOf = (name: string) => Number(process.env.FC_SEED ?? createHash('sha256').update(name).digest().readUInt32BE(0));

describe.each(ENDPOINTS)('$name: 1,000 generated requests', (endpoint) => {
  test('no 5xx; a refused request changes nothing; healthy afterwards', async () => {
    const before = await snapshot();
    let created = 0;
    let acceptedOnTarget = 0;
    const counts: Record<number, number> = {};
    const link = signLink(LINK_SECRET, { caseId: target, action: 'csat' });
    const status = signStatusLink(LINK_SECRET, target, 0);
    await fc.assert(
      fc.asyncProperty(segment, query, endpoint.raw ?? bodies(endpoint.body ?? {}), endpoint.type ?? contentType, encoding, fc.boolean(), endpoint.auth ?? auth, fc.option(fc.string({ maxLength: 300 })), async (seg, q, body, type, enc, honest, authorization, idem) => {
        const s = seg === 'TARGET' ? (endpoint.name.includes('links') ? link : endpoint.name.includes('/status/') ? status : target) : seg;
        const headers: Record<string, string> = {};
        if (type) headers['content-type'] = type;
        if (enc) headers['content-encoding'] = enc;
        if (authorization) headers.authorization = authorization;
        if (idem !== null && endpoint.method === 'POST') headers['idempotency-key'] = idem.replace(/[^\x20-\x7e]/g, '');
        const onTarget = seg === 'TARGET' && endpoint.mutates;
        const outside = outsider(authorization);
        const snap = onTarget || (outside && endpoint.mutates) ? await snapshot() : undefined;
        const payload = endpoint.method === 'POST' ? encode(body, enc, honest) : undefined;
        const r = await send(endpoint.method, `${endpoint.path(s)}${q}`, headers, payload);
        counts[r.status] = (counts[r.status] ?? 0) + 1;
        if (r.status >= 500) throw new Error(`${r.status} for ${endpoint.method} ${endpoint.path(s)}${q} (${type}, ${enc}): ${r.text.slice(0, 300)}`);
        if (r.status === 201) created++;
        if (onTarget && r.status === 200) acceptedOnTarget++;
        // A reply names its case in the message, not the path: any accepted one may be the target's.
        if (endpoint.raw && r.status === 200) acceptedOnTarget++;
        if (onTarget && r.status >= 400) {
          const after = await snapshot();
          if (after.timeline !== snap!.timeline || after.stage !== snap!.stage) throw new Error(`a refused ${endpoint.name} (${r.status}) changed the case`);
        }
        if (outside) {
          // No role in the target's team: nothing of it is read, nothing of it changes.
          if (endpoint.path(s).includes(target) && !endpoint.name.includes('links') && !endpoint.name.includes('/status/') && r.status < 400) throw new Error(`a key of team emea got ${r.status} for ${endpoint.name} on the target`);
          if (r.status < 400 && r.text.includes(target) && !endpoint.name.includes('/status/')) throw new Error(`a key of team emea read the target's id in ${endpoint.name} (${r.status}): ${r.text.slice(0, 200)}`);
          if (endpoint.mutates) {
            const after = await snapshot();
            if (after.timeline !== snap!.timeline || after.stage !== snap!.stage) throw new Error(`a key of team emea changed the target by ${endpoint.name} (${r.status})`);
            if (r.status === 200 && !endpoint.name.includes('links')) throw new Error(`a key of team emea acted by ${endpoint.name} (200)`);
          }
        }
      }),
      { numRuns: RUNS, seed: seedOf(endpoint.name), endOnFailure: true },
    );
    statuses[endpoint.name] = counts;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(RUNS);
    const after = await snapshot();
    expect(after.count).toBe(before.count + created);
    if (acceptedOnTarget === 0) expect(after.timeline).toBe(before.timeline);
    expect((await sys.call('GET', '/healthz', { key: null })).status).toBe(200);
  }, 300_000);
});
