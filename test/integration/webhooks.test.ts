/**
 * Outbound webhooks on the real API, worker and dev server, to a subscriber in this process that checks
 * every delivery with the Standard Webhooks specification's verifier: each event once per webhook-id, in
 * sequence order; the subscriptions' filters; 4xx fails, 410 disables and tells the admins; a delivery
 * sent again with its webhook-id; the admins' list of every attempt.
 */
import { createMetrics } from '../../config/metrics';
import { eventually, openBody, startSystem, type System } from '../helpers/system';
import { newSecret, startReceiver, type Receiver } from '../helpers/webhook-receiver';

const SECRET = newSecret();
const OLD_SECRET = newSecret();
let sys: System;
let rx: Receiver;
const metrics = createMetrics();

beforeAll(async () => {
  rx = await startReceiver(SECRET);
  sys = await startSystem({
    metrics,
    webhooks: {
      allowPrivateTargets: true, // the subscriber is on loopback
      notify: ['ops@vendor.example'],
      endpoints: [
        // Rotating: both secrets sign every delivery; the subscriber checks the new one, and the old one still verifies.
        { id: 'crm', url: `${rx.base}/crm`, secrets: [SECRET, OLD_SECRET] },
        { id: 'closings', url: `${rx.base}/closings`, secrets: [SECRET], events: ['case.closed'] },
        { id: 'strict', url: `${rx.base}/strict`, secrets: [SECRET], events: ['case.opened'] },
        { id: 'gone', url: `${rx.base}/gone`, secrets: [SECRET], events: ['case.opened', 'case.stage_changed'] },
        { id: 'other-team', url: `${rx.base}/other`, secrets: [SECRET], teams: ['emea'] },
        // Always 503: its deliveries stay pending on the retry schedule.
        { id: 'busy', url: `${rx.base}/busy`, secrets: [SECRET], events: ['case.opened'] },
      ],
    },
  });
}, 120_000);
afterAll(async () => {
  await sys?.stop();
  await rx?.close();
});

type Item = { id: string; endpoint: string; type: string; caseId: string; sequence: number; status: string; attempts: { at: string; status?: number; error?: string; ms: number }[] };
const deliveries = async (query: string, key = 'admin') => sys.call('GET', `/webhooks/deliveries?${query}`, { key });
const itemsOf = async (query: string) => (await deliveries(query)).body.items as Item[];

test('every change of a case reaches the subscriber once per webhook-id, signed with each secret, in sequence order; the list shows every attempt', async () => {
  rx.script('/strict', [{ status: 400 }]);
  rx.script('/gone', [{ status: 410 }]);
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: 'hooks-a' } }) });
  const id = opened.body.id as string;
  const act = async (path: string, body: object, key = 'agent') => expect((await sys.call('POST', `/escalations/${id}/${path}`, { key, body })).status).toBe(200);
  await act('acknowledge', { note: 'Looking at it' });
  await act('pause', { reason: 'waiting_on_customer', note: 'Asked for logs' });
  await act('resume', {});
  await act('updates', { known: 'The cache behind the sync holds stale rows', nextUpdateAt: new Date(Date.now() + 3_600_000).toISOString() });
  await act('resolve', { rootCause: 'A stale cache', fix: 'Flushed it and fixed the expiry', prevention: 'An alert on cache age' });
  await act('confirmation', { resolved: true });
  await act('csat', { score: 9, comment: 'Quick' });
  await act('close', { reason: 'Done early for the test' }, 'admin');

  const mine = () => rx.at('/crm').filter((r) => r.verified.ok && r.verified.payload.data.case.id === id);
  await eventually(async () => mine(), (rs) => rs.some((r) => r.verified.ok && r.verified.payload.type === 'case.closed'), 'case.closed at the CRM');
  const crm = mine();
  // Every request verifies with the specification's verifier, under either secret.
  expect(rx.at('/crm').every((r) => r.verified.ok)).toBe(true);
  const { Webhook } = await import('standardwebhooks');
  for (const r of crm) expect(() => new Webhook(OLD_SECRET).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
  expect(crm[0].headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
  // Once per webhook-id, in sequence order, numbered from 1 with no gap.
  const ids = crm.map((r) => r.headers['webhook-id']);
  expect(new Set(ids).size).toBe(ids.length);
  const payloads = crm.map((r) => (r.verified.ok ? r.verified.payload : undefined)!);
  expect(payloads.map((p) => p.data.sequence)).toEqual(payloads.map((_, i) => i + 1));
  expect(payloads.map((p) => p.type)).toEqual([
    'case.opened',
    'case.stage_changed', // acknowledge → investigate
    'case.paused',
    'case.resumed',
    'case.stage_changed', // the first update → communicate
    'case.resolved',
    'case.stage_changed', // → confirm
    'case.stage_changed', // confirmed → follow_up
    'case.csat_recorded',
    'case.stage_changed', // closed
    'case.closed',
  ]);
  const closed = payloads.at(-1)!;
  expect(closed.data).toMatchObject({ reason: 'Done early for the test', case: { id, status: 'closed', team: 'default', title: openBody().title, deadlines: expect.any(Object) } });
  expect(payloads[0].data.case).toMatchObject({ id, stage: 'acknowledge', severity: opened.body.severity, customer: { id: 'hooks-a' } });
  expect(payloads[2].data).toMatchObject({ reason: 'waiting_on_customer' });
  expect(crm[0].headers['webhook-id']).toBe(`msg_crm_${id}_1`);
  expect(Number(crm[0].headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 120);

  // A subscription to one event type gets that one, with the case's own sequence number; another team's endpoint gets nothing.
  await eventually(async () => rx.at('/closings'), (rs) => rs.length >= 1, 'case.closed at the closings endpoint');
  const closing = rx.at('/closings').filter((r) => r.verified.ok && r.verified.payload.data.case.id === id);
  expect(closing.map((r) => (r.verified.ok ? [r.verified.payload.type, r.verified.payload.data.sequence] : []))).toEqual([['case.closed', closed.data.sequence]]);
  expect(rx.at('/other')).toEqual([]);

  // The admins' list: every delivery of the case with its attempts, filtered by endpoint and status.
  const listed = await eventually(() => itemsOf(`caseId=${id}&endpoint=crm`), (xs) => xs.length === payloads.length && xs.every((x) => x.status === 'delivered'), 'the CRM deliveries listed');
  expect(listed.map((x) => [x.sequence, x.type, x.status, x.attempts.length, x.attempts[0].status])).toEqual(payloads.map((p, i) => [i + 1, p.type, 'delivered', 1, 200]));
  expect(listed[0]).toMatchObject({ id: `msg_crm_${id}_1`, endpoint: 'crm', caseId: id });

  // 4xx other than 410 fails the delivery at once; the list says why.
  const strict = await eventually(() => itemsOf(`caseId=${id}&endpoint=strict`), (xs) => xs[0]?.status === 'failed', 'the strict delivery failed');
  expect(strict.map((x) => [x.type, x.status, x.attempts.map((a) => a.status)])).toEqual([['case.opened', 'failed', [400]]]);
  expect((await itemsOf(`caseId=${id}&status=failed`)).map((x) => x.endpoint)).toEqual(['strict']);

  // Sent again by an admin, with the same webhook-id: the subscriber now takes it.
  rx.script('/strict', [{ status: 200 }]);
  const retried = await sys.call('POST', `/webhooks/deliveries/${strict[0].id}/retry`);
  expect(retried.status).toBe(202);
  expect(retried.body).toMatchObject({ id: strict[0].id, status: 'pending' });
  const again = await eventually(() => itemsOf(`caseId=${id}&endpoint=strict`), (xs) => xs[0]?.status === 'delivered', 'the strict delivery sent again');
  expect(again[0].attempts.map((a) => a.status)).toEqual([400, 200]);
  expect(rx.at('/strict').filter((r) => r.headers['webhook-id'] === strict[0].id).length).toBe(2);

  // Metrics per endpoint and outcome.
  const text = await metrics.registry.metrics();
  expect(text).toMatch(/escalation_webhook_attempts_total\{endpoint="crm",outcome="delivered"\} (1[1-9]|[2-9]\d)/);
  expect(text).toMatch(/escalation_webhook_attempts_total\{endpoint="strict",outcome="failed"\} 1/);
}, 90_000);

test('410 disables the endpoint until its config changes: its later deliveries are not sent, and the admins are told once', async () => {
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: 'hooks-b' } }) });
  const id = opened.body.id as string;
  await eventually(() => itemsOf(`caseId=${id}&endpoint=gone`), (xs) => xs[0]?.status === 'disabled', 'the delivery to a 410 endpoint');
  await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: {} });
  const both = await eventually(() => itemsOf(`caseId=${id}&endpoint=gone`), (xs) => xs.length === 2 && xs.every((x) => x.status === 'disabled'), 'both deliveries disabled');
  // The second was never sent: disabled before its attempt, by the first test's 410 or this one's.
  expect(both[1].attempts).toEqual([expect.objectContaining({ error: expect.stringMatching(/disabled/) })]);
  expect(both[1].attempts[0].status).toBeUndefined();
  expect(rx.at('/gone').filter((r) => r.verified.ok && r.verified.payload.data.case.id === id).length).toBeLessThanOrEqual(1);
  const told = await eventually(async () => sys.smtp.received.filter((m) => /Webhook endpoint "gone" disabled/.test(m.mail.subject ?? '')), (ms) => ms.length >= 1, 'the admins told');
  expect(told).toHaveLength(1);
  expect(told[0].envelopeTo).toEqual(['ops@vendor.example']);
  expect(told[0].mail.text).toContain(`${rx.base}/gone`);
}, 60_000);

test('a delivery still pending on the retry schedule is not sent again on request: 409, with its next attempt', async () => {
  rx.script('/busy', [{ status: 503 }]);
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: 'hooks-c' } }) });
  const id = opened.body.id as string;
  // After 503s it waits on the schedule (5 s, then 5 min): pending, with the time of its next attempt.
  const [pending] = await eventually(() => itemsOf(`caseId=${id}&endpoint=busy`), (xs) => (xs[0]?.attempts.length ?? 0) >= 1 && xs[0].status === 'pending', 'a pending delivery after a 503');
  expect(pending.attempts[0].status).toBe(503);
  const refused = await sys.call('POST', `/webhooks/deliveries/${pending.id}/retry`);
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(new RegExp(`^Delivery ${pending.id} is pending: its next attempt is at \\d{4}-`)) });
}, 60_000);

test('the list is for admins of every team an endpoint serves; bad filters are 400s; an unknown delivery is 404', async () => {
  expect((await deliveries('', 'agent')).status).toBe(403);
  expect((await deliveries('endpoint=nope')).status).toBe(400);
  expect((await deliveries('status=lost')).status).toBe(400);
  expect((await deliveries('cursor=abc')).status).toBe(400);
  expect((await deliveries('caseId=../x')).status).toBe(400);
  expect((await sys.call('POST', '/webhooks/deliveries/msg_crm_nope_1/retry')).status).toBe(404);
  expect((await sys.call('POST', '/webhooks/deliveries/whatever/retry')).status).toBe(404);
  expect((await sys.call('POST', '/webhooks/deliveries/msg_crm_x_1/retry', { key: 'agent' })).status).toBe(403);
});
