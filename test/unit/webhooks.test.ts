/**
 * The webhooks' pure rules (which events a change makes, the schedule, answers and Retry-After), their
 * config (secrets, private targets, teams) and an attempt's guard against private addresses.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_POLICY, act, caseEvents, endpointWants, nextAttemptIn, openCase, retryAfterMs, tick, verdictOf, webhookBody, webhookCase, type CaseState } from '../../playbook';
import { ConfigError, loadEscalationConfig } from '../../config/settings';
import { isPrivateAddress, privateTargetProblem } from '../../config/webhooks';
import { createWebhookActivities, signedHeaders } from '../../activities/webhooks';
import { parseDeliveryId, deliveryIdFor } from '../../workflows/webhook-names';
import { caseInput } from '../helpers/fixtures';
import { newSecret } from '../helpers/webhook-receiver';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const H = 3_600_000;
const opened = () => openCase({ id: 'c1', input: caseInput({ severity: 'high' }), policy: DEFAULT_POLICY, now: T0, rulesVersion: 6 }).state;
const step = (s: CaseState, action: Parameters<typeof act>[1], at: number) => {
  const t = act(s, action, at);
  return { state: t.state, types: caseEvents(s, t.state, t.effects).map((e) => e.type), events: caseEvents(s, t.state, t.effects) };
};

describe('the events a change of a case makes', () => {
  test('opening, acknowledging, pausing and resuming, resolving, confirming, CSAT and closing each say what happened', () => {
    let s = opened();
    expect(caseEvents(undefined, s).map((e) => e.type)).toEqual(['case.opened']);
    let r = step(s, { type: 'acknowledge', by: 'sam' }, T0 + 60_000);
    expect(r.events).toEqual([{ type: 'case.stage_changed', fields: { from: 'acknowledge', to: 'investigate' } }]);
    r = step(r.state, { type: 'pause', by: 'sam', reason: 'waiting_on_customer', until: new Date(T0 + 5 * H).toISOString() }, T0 + 2 * 60_000);
    expect(r.events).toEqual([{ type: 'case.paused', fields: { reason: 'waiting_on_customer', until: new Date(T0 + 5 * H).toISOString() } }]);
    r = step(r.state, { type: 'resume', by: 'sam' }, T0 + 3 * 60_000);
    expect(r.types).toEqual(['case.resumed']);
    r = step(r.state, { type: 'resolve', by: 'sam', rootCause: 'a stale cache', fix: 'flushed it', prevention: 'an alert on cache age' }, T0 + H);
    expect(r.types).toEqual(['case.resolved', 'case.stage_changed']);
    expect(r.events[0].fields).toMatchObject({ resolvedAt: new Date(T0 + H).toISOString(), resolution: { fix: 'flushed it' } });
    r = step(r.state, { type: 'confirmation', by: 'customer', resolved: false, comment: 'still broken' }, T0 + 2 * H);
    expect(r.types).toEqual(['case.reopened', 'case.stage_changed']);
    s = r.state;
    r = step(s, { type: 'close', by: 'admin', reason: 'duplicate' }, T0 + 3 * H);
    expect(r.events).toEqual([
      { type: 'case.stage_changed', fields: { from: s.stage, to: 'closed' } },
      { type: 'case.closed', fields: { reason: 'duplicate' } },
    ]);
  });

  test('a warning and a breach come from the clock; CSAT and a transfer say their values; a note says nothing', () => {
    const s = opened();
    const warned = tick(s, T0 + 50 * 60_000); // 3/4 of the hour to acknowledge
    expect(caseEvents(s, warned.state, warned.effects).map((e) => [e.type, e.fields.deadline])).toEqual([['case.deadline_warning', 'acknowledge']]);
    const breached = tick(warned.state, T0 + 61 * 60_000);
    const b = caseEvents(warned.state, breached.state, breached.effects).filter((e) => e.type === 'case.breached');
    expect(b).toEqual([{ type: 'case.breached', fields: { deadline: 'acknowledge', dueAt: new Date(T0 + H).toISOString() } }]);
    const noted = act(s, { type: 'note', by: 'sam', text: 'looked at the logs', kind: 'general' } as never, T0 + 1000);
    expect(caseEvents(s, noted.state, noted.effects)).toEqual([]);
    const moved = { ...s, team: 'emea' };
    expect(caseEvents(s, moved)).toEqual([{ type: 'case.transferred', fields: { from: 'default', to: 'emea' } }]);
    const rated = { ...s, csat: { score: 9, comment: 'quick', at: new Date(T0).toISOString() } };
    expect(caseEvents(s, rated)).toEqual([{ type: 'case.csat_recorded', fields: { score: 9, comment: 'quick' } }]);
    const replied = { ...s, replies: [{ at: new Date(T0).toISOString(), from: 'dana@acme.example', text: 'Hello' }] };
    expect(caseEvents(s, replied)).toEqual([{ type: 'case.customer_replied', fields: { at: new Date(T0).toISOString(), from: 'dana@acme.example' } }]);
    expect(caseEvents(replied, replied)).toEqual([]);
  });

  test('the body: type, timestamp and data with the case (the list item, team and deadlines), its sequence and the event’s fields', () => {
    const s = opened();
    const body = webhookBody({ type: 'case.opened', sequence: 1, timestamp: '2026-03-02T10:00:00.000Z', case: webhookCase(s), fields: {} });
    expect(body).toEqual({
      type: 'case.opened',
      timestamp: '2026-03-02T10:00:00.000Z',
      data: {
        sequence: 1,
        case: expect.objectContaining({ id: 'c1', stage: 'acknowledge', status: 'open', severity: 'high', team: 'default', breached: false, nextDeadline: expect.any(String), deadlines: expect.objectContaining({ acknowledge: new Date(T0 + H).toISOString() }) }),
      },
    });
    expect(JSON.stringify(body.data.case)).not.toMatch(/notes|timeline|contact/);
  });
});

describe('who wants an event', () => {
  test('event types (or *) and teams (or all)', () => {
    expect(endpointWants({}, 'case.closed', 'amer')).toBe(true);
    expect(endpointWants({ events: ['*'] }, 'case.closed', 'amer')).toBe(true);
    expect(endpointWants({ events: ['case.opened'] }, 'case.closed', 'amer')).toBe(false);
    expect(endpointWants({ events: ['case.closed'], teams: ['emea'] }, 'case.closed', 'amer')).toBe(false);
    expect(endpointWants({ teams: ['emea', 'amer'] }, 'case.closed', 'amer')).toBe(true);
  });
});

describe('answers, the schedule and Retry-After', () => {
  test('2xx delivers; 5xx, 429 and no answer retry; 410 is gone; other answers fail', () => {
    expect([200, 204, 299, 500, 503, 429, undefined, 410, 400, 404, 301, 199].map(verdictOf)).toEqual(['delivered', 'delivered', 'delivered', 'retry', 'retry', 'retry', 'retry', 'gone', 'failed', 'failed', 'failed', 'failed']);
  });
  test('5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then none; a longer Retry-After wins, up to a day', () => {
    const s = 1000, m = 60 * s;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => nextAttemptIn(n))).toEqual([5 * s, 5 * m, 30 * m, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H, undefined]);
    expect(nextAttemptIn(1, H)).toBe(H);
    expect(nextAttemptIn(2, 1000)).toBe(5 * m);
    expect(nextAttemptIn(1, 90 * H)).toBe(24 * H);
    expect(nextAttemptIn(10, H)).toBeUndefined();
  });
  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('120', T0)).toBe(120_000);
    expect(retryAfterMs(new Date(T0 + 90_000).toUTCString(), T0)).toBe(90_000);
    expect(retryAfterMs(new Date(T0 - 90_000).toUTCString(), T0)).toBe(0);
    expect([retryAfterMs(undefined, T0), retryAfterMs('soon', T0), retryAfterMs('', T0)]).toEqual([undefined, undefined, undefined]);
  });
  test('delivery ids name the endpoint, the case and the sequence, and nothing else parses', () => {
    expect(parseDeliveryId(deliveryIdFor('crm', 'acme-1a2b', 7))).toEqual({ endpoint: 'crm', caseId: 'acme-1a2b', sequence: 7 });
    for (const bad of ['msg_crm_acme_0', 'msg_CRM_acme_1', 'msg_crm__1', 'crm_acme_1', 'msg_crm_acme_1x', "msg_crm_a'b_1"]) expect(parseDeliveryId(bad)).toBeUndefined();
  });
  test('the signature header: one v1 signature per secret, each verified by the specification’s verifier', () => {
    const [a, b] = [newSecret(), newSecret()];
    const body = '{"type":"case.opened"}';
    const h = signedHeaders({ secrets: [a, b] }, 'msg_x_y_1', body, new Date());
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of [a, b]) expect(new Webhook(s).verify(body, h)).toEqual({ type: 'case.opened' });
    expect(() => new Webhook(newSecret()).verify(body, h)).toThrow();
  });
});

describe('the webhooks config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
  const load = (webhooks: unknown, extra: object = {}) => {
    const p = join(dir, `c${Math.random()}.json`);
    writeFileSync(p, JSON.stringify({ webhooks, ...extra }));
    return loadEscalationConfig(p);
  };
  const secret = newSecret();
  test('endpoints with secrets, events and teams; defaults', () => {
    const c = load({ endpoints: [{ id: 'crm', url: 'https://hooks.example.com/in', secrets: [secret], events: ['case.closed'] }] });
    expect(c.webhooks).toEqual({ allowPrivateTargets: false, endpoints: [{ id: 'crm', url: 'https://hooks.example.com/in', secrets: [secret], events: ['case.closed'] }] });
    expect(load(undefined).webhooks).toEqual({ endpoints: [], allowPrivateTargets: false });
  });
  test.each([
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: ['hunter2'] }] }, 'webhooks.endpoints.0.secrets.0: a secret is whsec_'],
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: [`whsec_${Buffer.alloc(8).toString('base64')}`] }] }, 'a secret is whsec_'],
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: [] }] }, 'webhooks.endpoints.0.secrets'],
    [{ endpoints: [{ id: 'CRM', url: 'https://x.example', secrets: [secret] }] }, 'an endpoint id is 1 to 40'],
    [{ endpoints: [{ id: 'crm', url: 'ftp://x.example', secrets: [secret] }] }, 'expected an http or https URL'],
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: [secret], events: ['case.exploded'] }] }, 'webhooks.endpoints.0.events.0'],
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: [secret] }, { id: 'crm', url: 'https://y.example', secrets: [secret] }] }, 'endpoint id "crm" is used twice'],
    [{ endpoints: [{ id: 'crm', url: 'http://127.0.0.1:8080/in', secrets: [secret] }] }, 'webhooks.endpoints.0.url: 127.0.0.1 is a private, loopback or link-local address (set webhooks.allowPrivateTargets: true'],
    [{ endpoints: [{ id: 'crm', url: 'http://[fe80::1]/in', secrets: [secret] }] }, 'is a private, loopback or link-local address'],
    [{ endpoints: [{ id: 'crm', url: 'http://localhost:8080/in', secrets: [secret] }] }, 'localhost is a loopback name'],
    [{ endpoints: [{ id: 'crm', url: 'https://x.example', secrets: [secret], teams: ['nowhere'] }] }, 'webhooks.endpoints.0.teams: no team "nowhere"'],
    [{ endpoints: [], surprise: true }, 'webhooks: Unrecognized key'],
  ])('refused with the field and the reason: %j', (webhooks, message) => {
    expect(() => load(webhooks)).toThrow(ConfigError);
    expect(() => load(webhooks)).toThrow(message);
  });
  test("the README's example loads as written", () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const yaml = /### Webhooks[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const p = join(dir, 'readme-webhooks.yaml');
    writeFileSync(p, `${yaml}teams:\n  amer: { name: Americas }\n`);
    const c = loadEscalationConfig(p);
    expect(c.webhooks.endpoints.map((e) => [e.id, e.events, e.teams])).toEqual([['crm', ['case.opened', 'case.breached', 'case.closed'], ['amer']]]);
    expect(c.webhooks.notify).toEqual(['ops@vendor.example']);
  });
  test('private targets when allowed', () => {
    expect(load({ allowPrivateTargets: true, endpoints: [{ id: 'crm', url: 'http://127.0.0.1:8080/in', secrets: [secret] }] }).webhooks.endpoints).toHaveLength(1);
  });
  test('which addresses are private', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '100.64.0.1']) expect([ip, isPrivateAddress(ip)]).toEqual([ip, true]);
    for (const ip of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) expect([ip, isPrivateAddress(ip)]).toEqual([ip, false]);
    expect(privateTargetProblem('hooks.example.com')).toBeUndefined();
    expect(privateTargetProblem('api.localhost')).toMatch(/loopback name/);
  });
});

describe('an attempt', () => {
  /** A Temporal client whose endpoint switch says "not disabled" (the integration tests use the real one). */
  const notDisabled = () => ({ workflow: { getHandle: () => ({ query: async () => null }) } }) as never;
  test('a name that resolves to a private address is refused when it connects (no request is made), and sent when allowed', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    // A public-looking name that a (stand-in) DNS answers with loopback: the name check passes, the connect-time check does not.
    const endpoint = { id: 'sub', url: `http://hooks.rebind.example:${port}/in`, secrets: [newSecret()] };
    const resolve = ((host: string, options: object, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, [{ address: host === 'hooks.rebind.example' ? '127.0.0.1' : '192.0.2.1', family: 4 }])) as never;
    const input = { endpoint: 'sub', id: 'msg_sub_c_1', caseId: 'c', type: 'case.opened' as const, body: '{}' };
    try {
      const refused = await createWebhookActivities({ config: { allowPrivateTargets: false, endpoints: [endpoint] }, client: notDisabled, resolve }).attemptWebhook(input);
      expect(refused).toMatchObject({ verdict: 'failed', error: expect.stringMatching(/resolves to 127\.0\.0\.1, a private/) });
      expect(requests).toBe(0);
      const literal = await createWebhookActivities({ config: { allowPrivateTargets: false, endpoints: [{ ...endpoint, url: `http://127.0.0.1:${port}/in` }] }, client: notDisabled }).attemptWebhook(input);
      expect(literal).toMatchObject({ verdict: 'failed', error: expect.stringMatching(/^refused: 127\.0\.0\.1 is a private/) });
      const allowed = await createWebhookActivities({ config: { allowPrivateTargets: true, endpoints: [endpoint] }, client: notDisabled, resolve }).attemptWebhook(input);
      expect(allowed).toMatchObject({ verdict: 'delivered', status: 200 });
      expect(requests).toBe(1);
    } finally {
      server.close();
    }
  });
});
