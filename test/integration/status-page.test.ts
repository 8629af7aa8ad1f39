/**
 * The customer's status page on the real API, worker and dev server: linked from every customer email,
 * the case in the customer's words and nothing internal, rotated by an agent, rate limited per link.
 */
import { DEFAULT_POLICY } from '../../playbook';
import { STAGE_SENTENCE, STATUS_AFTER_CLOSE_MS, statusOf } from '../../api/status-page';
import type { LinkedView } from '../../api/service';
import { eventually, openBody, startSystem, type System } from '../helpers/system';

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ statusRequestsPerMinute: 8, policy: { ...DEFAULT_POLICY } });
}, 120_000);
afterAll(() => sys?.stop());

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
/** The status link of the latest customer email of a case (its path on the API). */
async function statusLinkIn(subject: RegExp): Promise<string> {
  const mail = await eventually(async () => sys.smtp.received.filter((r) => subject.test(r.mail.subject ?? '')).at(-1), (m) => m !== undefined, `the email ${subject}`);
  const url = /Where your case stands, any time: (\S+)/.exec(mail!.mail.text ?? '')?.[1];
  expect(url).toMatch(/^http:\/\/localhost:3000\/status\/[\w-]+\.[\w-]+\.[\w-]+$/);
  return new URL(url!).pathname;
}
const get = (path: string, json = false) => fetch(`${sys.base}${path}`, { headers: json ? { accept: 'application/json' } : {} });
type Facts = { stage: string; waitingOnYouSince: string | null; latestUpdate: { text: string }; nextUpdateBy: string | null; resolvedAt: string | null };
const facts = async (path: string) => (await (await get(path, true)).json()) as Facts;

test('every customer email links to the case’s status page: the stage in the customer’s words, what they were told, the next update, nothing internal', async () => {
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Exports time out', customer: { ...openBody().customer, id: 'status-a' } }) });
  const id = opened.body.id as string;
  await sys.call('POST', `/escalations/${id}/notes`, { key: 'agent', body: { text: 'SECRET-INTERNAL: the database is on fire' } });
  await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: { note: 'We are reading the export logs now.', nextUpdateAt: inHours(2) } });
  const path = await statusLinkIn(/Exports time out — We're on it/);

  const html = await get(path);
  expect(html.status).toBe(200);
  expect([html.headers.get('referrer-policy'), html.headers.get('x-robots-tag'), html.headers.get('cache-control')]).toEqual(['no-referrer', 'noindex', 'no-store']);
  const text = await html.text();
  expect(text).toContain('Exports time out');
  expect(text).toContain(STAGE_SENTENCE.investigating.replace("'", '&#x27;'));
  expect(text).toContain('We are reading the export logs now.');
  expect(text).toContain('Next update by');
  expect(text).toContain('America/New_York'); // the contact's zone
  for (const internal of ['SECRET-INTERNAL', 'supportlead@localhost', 'engineering', 'breach', 'sam@vendor.example']) expect(text).not.toContain(internal);

  const json = await (await get(path, true)).json();
  const view = (await sys.call('GET', `/escalations/${id}`)).body;
  expect(json).toEqual({
    reference: id,
    title: 'Exports time out',
    stage: 'investigating',
    stageText: STAGE_SENTENCE.investigating,
    latestUpdate: { at: view.acknowledgedAt, text: 'We are reading the export logs now.' },
    nextUpdateBy: view.promisedUpdateAt,
    waitingOnYouSince: null,
    resolvedAt: null,
    csm: { name: 'Sam Carter' },
  });

  // Waiting on the customer: since when; an update: what it said.
  await sys.call('POST', `/escalations/${id}/updates`, { key: 'agent', body: { known: 'Exports over 2 GB time out', workaround: 'Export by month', nextUpdateAt: inHours(3) } });
  await sys.call('POST', `/escalations/${id}/pause`, { key: 'agent', body: { reason: 'waiting_on_customer', note: 'asked for a file' } });
  const paused = await facts(path);
  const after = (await sys.call('GET', `/escalations/${id}`)).body;
  expect([paused.stage, paused.waitingOnYouSince, paused.latestUpdate.text]).toEqual(['updating', after.paused.since, 'Exports over 2 GB time out\nIn the meantime: Export by month']);
  await sys.call('POST', `/escalations/${id}/resume`, { key: 'agent', body: {} });
  await sys.call('POST', `/escalations/${id}/resolve`, { key: 'agent', body: { rootCause: 'A timeout', fix: 'Streamed exports', prevention: 'Load tests' } });
  const resolved = await facts(path);
  expect([resolved.stage, resolved.nextUpdateBy, resolved.resolvedAt !== null, resolved.latestUpdate.text]).toEqual(['awaiting_confirmation', null, true, 'Fix: Streamed exports\nPrevention: Load tests']);
});

test('an agent rotates the link: the old one answers 410 pointing to the latest email, the new one is answered and in the next email', async () => {
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Reports are empty', customer: { ...openBody().customer, id: 'status-b' } }) });
  const id = opened.body.id as string;
  await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: { nextUpdateAt: inHours(2) } });
  const old = await statusLinkIn(/Reports are empty — We're on it/);
  expect((await sys.call('POST', `/escalations/${id}/status-link/rotate`, { key: 'viewer', body: {} })).status).toBe(403);
  const rotated = await sys.call('POST', `/escalations/${id}/status-link/rotate`, { key: 'agent', body: {} });
  expect(rotated.status).toBe(200);
  const fresh = new URL(rotated.body.statusUrl).pathname;
  expect(fresh).not.toBe(old);
  const gone = await get(old);
  expect(gone.status).toBe(410);
  expect(await gone.text()).toContain('use the one in the latest email from us');
  expect((await get(old, true)).status).toBe(410);
  expect((await get(fresh)).status).toBe(200);
  await sys.call('POST', `/escalations/${id}/updates`, { key: 'agent', body: { known: 'Found it', nextUpdateAt: inHours(3) } });
  expect(await statusLinkIn(/Update on Reports are empty/)).toBe(fresh);
  // Not a link of ours: 404; a link is rate limited by itself (429 with Retry-After).
  expect((await get('/status/not.a.token')).status).toBe(404);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await get(fresh)).status);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  const limited = await get(fresh);
  expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '60']);
});

test('a case’s stages in the customer’s words; a link answers 410 thirty days after its case closed', () => {
  const view = (stage: string, closedAt: string | null = null) => ({ id: 'c', title: 't', stage, statusLinkGen: 0, closedAt, paused: null, promisedUpdateAt: null, lastToCustomer: null, resolvedAt: null, csm: { name: 'Sam' }, contact: { name: 'Dana' } }) as unknown as LinkedView;
  const stageOf = (stage: string) => (statusOf(view(stage), 0, Date.now()) as { stage: string }).stage;
  expect(['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery', 'closed'].map(stageOf)).toEqual(['investigating', 'investigating', 'updating', 'awaiting_confirmation', 'resolved', 'resolved', 'closed']);
  const closed = '2026-01-01T00:00:00.000Z';
  expect(statusOf(view('closed', closed), 0, Date.parse(closed) + STATUS_AFTER_CLOSE_MS)).not.toBe('expired');
  expect(statusOf(view('closed', closed), 0, Date.parse(closed) + STATUS_AFTER_CLOSE_MS + 1)).toBe('expired');
  expect(statusOf(view('investigate'), 1, Date.now())).toBe('rotated');
});
