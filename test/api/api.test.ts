import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../../api/app';
import { parseApiKeys } from '../../api/auth';
import { EscalationService } from '../../api/service';
import { apiConnectionOptions } from '../../api/server';
import { signLink } from '../../config/links';
import { DEFAULT_POLICY } from '../../playbook';
import { Worker } from '@temporalio/worker';
import { openSchema } from '../../api/schemas';
import { toHttpError } from '../../api/errors';
import { getCaseQuery } from '../../workflows/messages';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';
import { recordingActivities } from '../helpers/workflow-harness';
import { KEYS, LINK_SECRET, eventually, openBody, startSystem, type System } from '../helpers/system';

let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 120_000);
afterAll(() => sys?.stop());

const open = async (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  const r = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(overrides), headers });
  expect(r.status).toBe(201);
  return r.body as { id: string; [k: string]: unknown };
};
const act = (id: string, path: string, body: unknown, key: 'viewer' | 'agent' | 'admin' | null = 'agent') => sys.call('POST', `/escalations/${id}/${path}`, { key, body });
const view = async (id: string) => {
  const r = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
  expect(r.status).toBe(200);
  return r.body;
};
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('opening a case', () => {
  test('201 with Location and the case view', async () => {
    const r = await sys.call('POST', '/escalations', { key: 'agent', body: openBody() });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/escalations/${r.body.id}`);
    expect(r.body).toMatchObject({
      workflowId: `escalation-${r.body.id}`,
      stage: 'acknowledge',
      status: 'open',
      severity: 'critical',
      title: 'Data sync failing',
      customer: { id: 'acme', segment: 'enterprise' },
      acknowledgedAt: null,
      breaches: [],
      csat: null,
      outcome: null,
    });
    expect(Date.parse(r.body.deadlines.acknowledge) - Date.parse(r.body.openedAt)).toBe(3_600_000);
    for (const k of ['respond', 'nextUpdate', 'followUp', 'recoveryCall', 'healthCheck', 'qbr']) expect(r.body.deadlines).toHaveProperty(k);
    for (const k of ['internalEscalations', 'messages', 'tasks', 'timeline']) expect(Array.isArray(r.body[k])).toBe(true);
  });

  test('400 names every bad field, and nothing is opened', async () => {
    const r = await sys.call('POST', '/escalations', {
      key: 'agent',
      body: openBody({ severity: 'urgent', contact: { name: 'D', email: 'not-an-email', timezone: 'Mars/Olympus' }, title: 'two\nlines' }),
      headers: { 'Idempotency-Key': 'bad-open-1' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_input');
    expect(r.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['contact.email', 'contact.timezone', 'severity', 'title']);
    const again = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(), headers: { 'Idempotency-Key': 'bad-open-1' } });
    expect(again.status).toBe(201); // the key was not used up by the refused request
  });

  test('invalid JSON is a 400, an oversized body a 413, never a 500', async () => {
    expect((await sys.call('POST', '/escalations', { key: 'agent', body: '{"customer":' })).body.error.code).toBe('invalid_json');
    const big = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ description: 'x'.repeat(200_000) }) });
    expect(big.status).toBe(413);
  });

  test('the same Idempotency-Key gives the same case (200); with another body it is a 409', async () => {
    const first = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(), headers: { 'Idempotency-Key': 'ticket-1001' } });
    const second = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(), headers: { 'Idempotency-Key': 'ticket-1001' } });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.id).toBe(first.body.id);
    const other = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Something else' }), headers: { 'Idempotency-Key': 'ticket-1001' } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  test('a closed case keeps its Idempotency-Key: the same key never opens a second case', async () => {
    const first = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(), headers: { 'Idempotency-Key': 'ticket-closed-1' } });
    expect(first.status).toBe(201);
    expect((await act(first.body.id, 'close', { reason: 'withdrawn' }, 'admin')).status).toBe(200);
    await eventually(() => sys.client.workflow.getHandle(first.body.workflowId).describe(), (d) => d.status.name === 'COMPLETED', 'the case ended');
    const again = await sys.call('POST', '/escalations', { key: 'agent', body: openBody(), headers: { 'Idempotency-Key': 'ticket-closed-1' } });
    expect([again.status, again.body.id, again.body.status]).toEqual([200, first.body.id, 'closed']);
  });

  test('an open needs no worker: 201 with the case as the workflow then holds it', async () => {
    const taskQueue = `no-worker-${Date.now()}`;
    const service = new EscalationService({ client: sys.client, taskQueue, policy: () => DEFAULT_POLICY });
    const body = openSchema.parse(openBody({ severity: 'high', flags: { churnThreat: true } }));
    const { created, case: answered } = await service.open(body); // no worker polls this queue
    expect(created).toBe(true);
    expect(answered).toMatchObject({ stage: 'acknowledge', status: 'open', severity: 'high' });
    expect(answered.internalEscalations.map((e) => e.trigger)).toEqual(['churn_threat']);
    // Listed and filtered at once, from the search attributes the start set: no worker has run it.
    const listed = await eventually(
      () => service.list({ limit: 50, status: 'open', stage: 'acknowledge', customerId: body.customer.id }),
      (l) => l.items.some((i) => i.id === answered.id),
      'the new case listed',
    );
    expect(listed.items.find((i) => i.id === answered.id)).toMatchObject({ stage: 'acknowledge', status: 'open', severity: 'high', nextDeadline: answered.nextDeadline?.dueAt });
    const worker = await Worker.create({ connection: sys.env.nativeConnection, namespace: sys.env.namespace, taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities });
    await worker.runUntil(async () => {
      const held = await sys.client.workflow.getHandle(answered.workflowId).query(getCaseQuery);
      // What delivery fills in (status, recipients, subject, reason) may already be there: under rules 5 the
      // opening's sends go out inside the opening step, before this query can be answered.
      const withoutDelivery = (v: typeof held) => ({ ...v, messages: v.messages.map(({ id, kind, channel, at }) => ({ id, kind, channel, at, status: 'pending', to: [] })), messagesOmitted: 0 });
      // The API adds the link to the Temporal UI (null here: no UI address) and whether the view is an
      // earlier read (null: it is the case now); the rest is the workflow's own view.
      const { temporalUiUrl, stale, ...view } = answered;
      expect(temporalUiUrl).toBeNull();
      expect(stale).toBeNull();
      expect(withoutDelivery(held)).toEqual(withoutDelivery(view as typeof held));
      expect(held.openedAt).toBe(answered.openedAt);
    });
  });

  test('the search attributes an open sets are written once: the workflow upserts only what changes', async () => {
    const c = await open();
    const upserts = async () => {
      const events = (await sys.client.workflow.getHandle(c.workflowId as string).fetchHistory()).events ?? [];
      return { tasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length, upserts: events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).map((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes!.searchAttributes!.indexedFields!)) };
    };
    const opened = await eventually(upserts, (h) => h.tasks > 0, 'the first workflow task');
    expect(opened.upserts).toEqual([]);
    expect((await act(c.id, 'acknowledge', {})).status).toBe(200);
    const acked = await eventually(upserts, (h) => h.upserts.length > 0, 'the acknowledgement published');
    expect(acked.upserts[0]).toEqual(expect.arrayContaining(['EscalationStage', 'EscalationAckSeconds']));
    expect(acked.upserts[0]).not.toContain('EscalationCustomerId');
    // Visibility follows the history asynchronously (PostgreSQL's in the cluster run): listed within the bound.
    const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((i) => i.id);
    const listed = await eventually(() => sys.call('GET', `/escalations?customerId=${encodeURIComponent(openBody().customer.id)}&stage=investigate`, { key: 'viewer' }), (r) => ids(r).includes(c.id), 'the case listed in its new stage');
    expect(ids(listed)).toContain(c.id);
  });

  test('with no worker an action answers 503 within its bound; retried with the same Idempotency-Key it lands once', async () => {
    const taskQueue = `no-worker-act-${Date.now()}`;
    const service = new EscalationService({ client: sys.client, taskQueue, policy: () => DEFAULT_POLICY });
    const { case: c } = await service.open(openSchema.parse(openBody()));
    const began = Date.now();
    const err = await service.act(c.id, 'note', { text: 'while no worker runs', by: 'sam' }, 'note-1').then(() => undefined, (e: unknown) => e);
    const waited = Date.now() - began;
    const e = toHttpError(err);
    expect([e.status, e.code, e.headers['Retry-After']]).toEqual([503, 'temporal_unavailable', '5']);
    expect(waited).toBeLessThan(30_000); // the bound (15 s) with room for a loaded machine: it does not hang
    const worker = await Worker.create({ connection: sys.env.nativeConnection, namespace: sys.env.namespace, taskQueue, ...WORKFLOW_SOURCE, activities: recordingActivities().activities });
    await worker.runUntil(async () => {
      const again = await service.act(c.id, 'note', { text: 'while no worker runs', by: 'sam' }, 'note-1');
      expect(again.stage).toBe('acknowledge');
      const held = await sys.client.workflow.getHandle(c.workflowId).query(getCaseQuery);
      expect(held.notes.map((n) => n.text)).toEqual(['while no worker runs']);
    });
  }, 90_000);

  test('twenty concurrent opens with one key make exactly one case', async () => {
    const body = openBody({ customer: { ...openBody().customer, id: 'concurrent-co' } });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sys.call('POST', '/escalations', { key: 'agent', body, headers: { 'Idempotency-Key': 'zendesk-777' } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const listed = await eventually(
      () => sys.call('GET', '/escalations?customerId=concurrent-co', { key: 'viewer' }),
      (r) => r.body.items?.length >= 1,
      'the case in visibility',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect((await sys.call('GET', '/escalations?customerId=concurrent-co', { key: 'viewer' })).body.items).toHaveLength(1);
    expect(listed.body.items[0].id).toBe(results[0].body.id);
  });
});

describe('who may do what', () => {
  test('no key 401, a bad key 401, a viewer may read but not act, an agent may not close, an admin may', async () => {
    const c = await open();
    expect((await sys.call('GET', `/escalations/${c.id}`, { key: null })).status).toBe(401);
    const bad = await fetch(`${sys.base}/escalations/${c.id}`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
    expect(bad.status).toBe(401);
    expect((await sys.call('GET', `/escalations/${c.id}`, { key: 'viewer' })).status).toBe(200);
    expect((await sys.call('GET', '/escalations', { key: 'viewer' })).status).toBe(200);
    expect((await sys.call('GET', '/reports/escalations', { key: 'viewer' })).status).toBe(200);
    expect((await act(c.id, 'acknowledge', {}, 'viewer')).status).toBe(403);
    expect((await sys.call('POST', '/escalations', { key: 'viewer', body: openBody() })).status).toBe(403);
    expect((await act(c.id, 'close', { reason: 'dup' }, 'agent')).status).toBe(403);
    const closed = await act(c.id, 'close', { reason: 'duplicate of another case' }, 'admin');
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: c.id, stage: 'closed', status: 'closed' });
    expect((await view(c.id)).closeReason).toBe('duplicate of another case');
    const after = await act(c.id, 'notes', { text: 'late note' });
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe('stage_conflict');
    expect((await sys.call('GET', `/escalations/${c.id}`, { key: 'viewer' })).body.status).toBe('closed');
  });

  test('unknown cases are 404; errors never leak stack traces', async () => {
    const r = await sys.call('GET', '/escalations/esc-doesnotexist', { key: 'viewer' });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect((await act('esc-doesnotexist', 'acknowledge', {})).status).toBe(404);
    expect((await sys.call('GET', '/escalations/..%2f..%2fetc', { key: 'viewer' })).status).toBe(404);
    expect(JSON.stringify(r.body)).not.toMatch(/at \w+ \(/);
  });
});

describe('a case through the API', () => {
  test('every action, its refusals (409, 422, 400) and the customer links', async () => {
    const c = await open({ severity: 'high' });
    // wrong stage and lint
    expect((await act(c.id, 'resolve', { rootCause: 'a', fix: 'b', prevention: 'c' })).status).toBe(409);
    const vague = await act(c.id, 'acknowledge', { note: "I'll look into it" });
    expect(vague.status).toBe(422);
    expect(vague.body.error).toMatchObject({ code: 'message_lint', details: [{ code: 'vague_phrase', field: 'note' }] });
    expect((await act(c.id, 'acknowledge', { nextUpdateAt: 'tomorrow-ish' })).status).toBe(400);

    const ack = await act(c.id, 'acknowledge', { note: 'Our engineers are on it.', nextUpdateAt: inHours(2) });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ stage: 'investigate', warnings: [] });
    expect((await view(c.id)).timeline.at(-1)).toMatchObject({ type: 'acknowledged', actor: 'agent-user' });
    expect((await act(c.id, 'acknowledge', {})).status).toBe(409);

    expect((await act(c.id, 'notes', { text: 'Logs show OOM', kind: 'root_cause' })).status).toBe(200);
    expect((await view(c.id)).notes).toHaveLength(1);
    expect((await act(c.id, 'notes', { text: 'x', kind: 'gossip' })).status).toBe(400);
    const noTime = await act(c.id, 'updates', { known: 'Found it' });
    expect(noTime.status).toBe(422);
    expect(noTime.body.error.details[0].code).toBe('no_next_update');
    const upd = await act(c.id, 'updates', { known: 'Large exports crash the sync worker', workaround: 'split the export', nextUpdateAt: inHours(3) });
    expect(upd.body.stage).toBe('communicate');

    const sev = await act(c.id, 'severity', { severity: 'critical', reason: 'Payroll blocked' });
    expect(sev.body.severity).toBe('critical');
    expect((await act(c.id, 'severity', { severity: 'critical', reason: 'again' })).status).toBe(409);
    const esc = await act(c.id, 'internal-escalations', { trigger: 'billing_contract', note: 'Credit needed', includeIfNeeded: true });
    expect(esc.status).toBe(200);
    expect((await view(c.id)).internalEscalations.at(-1)).toMatchObject({ trigger: 'billing_contract', to: ['finance', 'legal'] });
    expect((await act(c.id, 'internal-escalations', { trigger: 'gossip', note: 'x' })).status).toBe(400);

    const res = await act(c.id, 'resolve', { rootCause: 'Memory limit', fix: 'Streamed uploads', prevention: 'Load tests' });
    expect(res.body.stage).toBe('resolve');

    // customer links: GET shows a page and changes nothing; the button POSTs
    const notFixed = signLink(LINK_SECRET, { caseId: c.id, action: 'not_fixed' });
    const page = await fetch(`${sys.base}/links/${notFixed}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form method="post">[\s\S]*It's still broken/);
    expect((await sys.call('GET', `/escalations/${c.id}`, { key: 'viewer' })).body.stage).toBe('resolve');
    const reopened = await fetch(`${sys.base}/links/${notFixed}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=Still+failing' });
    expect(reopened.status).toBe(200);
    expect((await sys.call('GET', `/escalations/${c.id}`, { key: 'viewer' })).body.stage).toBe('communicate');

    await act(c.id, 'updates', { known: 'EU config was stale', nextUpdateAt: inHours(2) });
    await act(c.id, 'resolve', { rootCause: 'Stale EU config', fix: 'Redeployed EU', prevention: 'Config drift alarm' });
    const confirm = signLink(LINK_SECRET, { caseId: c.id, action: 'confirm' });
    const confirmed = await sys.call('POST', `/escalations/${c.id}/confirmation?token=${confirm}`, { key: null, body: { resolved: true } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.stage).toBe('follow_up');
    expect((await view(c.id)).timeline.at(-1)).toMatchObject({ type: 'confirmed', actor: 'customer' });

    const csat = signLink(LINK_SECRET, { caseId: c.id, action: 'csat' });
    const rated = await fetch(`${sys.base}/links/${csat}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ score: 9, comment: 'Great' }) });
    expect(rated.status).toBe(200);
    expect((await act(c.id, 'csat', { score: 11 })).status).toBe(400);

    expect((await act(c.id, 'tasks/recovery_call/complete', { notes: 'Called Dana' })).status).toBe(200);
    expect((await act(c.id, 'tasks/recovery_call/complete', { notes: 'again' })).status).toBe(409);
    expect((await act(c.id, 'tasks/sauna/complete', { notes: 'x' })).status).toBe(400);
    const fu = await act(c.id, 'tasks/follow_up/complete', { notes: 'Called instead of emailing' });
    expect(fu.body.stage).toBe('recovery');
    const outcome = await act(c.id, 'outcome', { churned: false, note: 'Renewed' });
    expect(outcome.status).toBe(200);
    expect((await view(c.id)).outcome).toMatchObject({ churned: false });
    const done = await act(c.id, 'tasks/health_check/complete', { notes: 'All good' });
    expect(done.body).toMatchObject({ stage: 'closed', status: 'closed' });
    expect((await view(c.id)).csat).toMatchObject({ score: 9, comment: 'Great' });
  });

  test('link tokens: tampered, expired, another case’s and another action’s are refused', async () => {
    const a = await open();
    const b = await open();
    const good = signLink(LINK_SECRET, { caseId: a.id, action: 'confirm' });
    const tampered = `${good.slice(0, -3)}${good.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const expired = signLink(LINK_SECRET, { caseId: a.id, action: 'confirm', ttlSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) - 3600 });
    const forged = signLink('another-secret-0123456789abcdef', { caseId: a.id, action: 'confirm' });
    const csatLink = signLink(LINK_SECRET, { caseId: a.id, action: 'csat' });
    const post = (id: string, token: string, body: unknown = { resolved: true }) => sys.call('POST', `/escalations/${id}/confirmation?token=${token}`, { key: null, body });
    expect((await post(a.id, tampered)).body.error.code).toBe('link_invalid');
    expect((await post(a.id, forged)).body.error.code).toBe('link_invalid');
    const exp = await post(a.id, expired);
    expect([exp.status, exp.body.error.code]).toEqual([403, 'link_expired']);
    const other = await post(b.id, good);
    expect([other.status, other.body.error.code]).toEqual([403, 'link_wrong_case']);
    expect((await post(a.id, csatLink)).body.error.code).toBe('link_wrong_action');
    // …and a confirm link cannot record a score
    const score = await sys.call('POST', `/escalations/${a.id}/csat?token=${good}`, { key: null, body: { score: 10 } });
    expect([score.status, score.body.error.code]).toEqual([403, 'link_wrong_action']);
    expect((await post(a.id, good, { resolved: false })).status).toBe(403);
    expect((await fetch(`${sys.base}/links/${tampered}`)).status).toBe(403);
    // a valid link at the wrong stage is a 409 like any other action
    expect((await post(a.id, good)).status).toBe(409);
  });
});

describe('cases ended in the Temporal UI or CLI', () => {
  test('a terminated case reads as closed with its reason, in the view and the list, and refuses actions', async () => {
    const c = await open({ customer: { ...openBody().customer, id: 'terminated-co' } });
    await sys.client.workflow.getHandle(c.workflowId as string).terminate('cleanup by ops');
    const v = await view(c.id);
    expect(v).toMatchObject({ status: 'closed', stage: 'closed', closeReason: 'Terminated in Temporal: cleanup by ops', nextDeadline: null, playbook: null });
    expect(v.closedAt).not.toBeNull();
    expect(Object.values(v.deadlines).every((d) => d === null)).toBe(true);
    const closed = await eventually(
      () => sys.call('GET', '/escalations?customerId=terminated-co&status=closed', { key: 'viewer' }),
      (r) => r.body.items.length === 1,
      'the terminated case among the closed',
    );
    expect(closed.body.items[0]).toMatchObject({ id: c.id, status: 'closed', stage: 'closed', closeReason: 'Terminated in Temporal', nextDeadline: null });
    expect((await sys.call('GET', '/escalations?customerId=terminated-co&status=open', { key: 'viewer' })).body.items).toEqual([]);
    const ack = await act(c.id, 'acknowledge', {});
    expect([ack.status, ack.body.error.code]).toEqual([409, 'stage_conflict']);
  });

  test('a cancelled case closed itself: view, list and search attributes say closed, with the reason', async () => {
    const c = await open({ customer: { ...openBody().customer, id: 'cancelled-co' } });
    await sys.client.workflow.getHandle(c.workflowId as string).cancel();
    const v = await eventually(() => view(c.id), (x) => x.status === 'closed', 'the case closed');
    expect(v).toMatchObject({ stage: 'closed', closeReason: 'Cancelled in Temporal (UI or CLI)' });
    const listed = await eventually(
      () => sys.call('GET', '/escalations?customerId=cancelled-co&status=closed', { key: 'viewer' }),
      (r) => r.body.items.length === 1,
      'the cancelled case among the closed',
    );
    expect(listed.body.items[0]).toMatchObject({ id: c.id, status: 'closed', stage: 'closed' });
    // The run ends (as cancelled) once what the case had to send is sent.
    const described = await eventually(() => sys.client.workflow.getHandle(c.workflowId as string).describe(), (d) => d.status.name !== 'RUNNING', 'the run ended');
    expect(described.status.name).toBe('CANCELLED');
    expect(described.searchAttributes.EscalationStatus).toEqual(['closed']);
  });
});

describe('lists and reports', () => {
  test('filters and a cursor', async () => {
    // a CRM's customer id, quotes and all, is a filter value, never part of the query
    const customerId = "List Co's #1";
    const q = `customerId=${encodeURIComponent(customerId)}`;
    for (let i = 0; i < 3; i++) await open({ customer: { ...openBody().customer, id: customerId }, severity: i === 0 ? 'low' : 'high' });
    const all = await eventually(() => sys.call('GET', `/escalations?${q}`, { key: 'viewer' }), (r) => r.body.items.length === 3, 'three cases');
    expect(all.body.items[0]).toMatchObject({ customer: { id: customerId, name: 'Acme Corp' }, stage: 'acknowledge', status: 'open', title: 'Data sync failing' });
    const page1 = await sys.call('GET', `/escalations?${q}&limit=2`, { key: 'viewer' });
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await sys.call('GET', `/escalations?${q}&limit=2&cursor=${page1.body.nextCursor}`, { key: 'viewer' });
    expect(page2.body.items).toHaveLength(1);
    expect(new Set([...page1.body.items, ...page2.body.items].map((x: { id: string }) => x.id)).size).toBe(3);
    expect((await sys.call('GET', `/escalations?customerId=${encodeURIComponent("x' OR '1'='1")}`, { key: 'viewer' })).body.items).toEqual([]);
    const high = await sys.call('GET', `/escalations?${q}&severity=high&stage=acknowledge&status=open&breached=false`, { key: 'viewer' });
    expect(high.body.items).toHaveLength(2);
    expect((await sys.call('GET', '/escalations?stage=sleeping', { key: 'viewer' })).status).toBe(400);
    expect((await sys.call('GET', '/escalations?cursor=%%%', { key: 'viewer' })).status).toBe(400);
  });

  test('the four metrics over a period', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const c = await open({ customer: { ...openBody().customer, id: 'reportco', segment: 'smb' }, severity: 'low' });
    await act(c.id, 'acknowledge', {});
    await act(c.id, 'resolve', { rootCause: 'a', fix: 'b', prevention: 'c' });
    await act(c.id, 'confirmation', { resolved: true });
    await act(c.id, 'csat', { score: 8 });
    await act(c.id, 'outcome', { churned: true, note: 'Lost to a competitor' });
    const q = `/reports/escalations?segment=smb&severity=low&from=${encodeURIComponent(from)}`;
    const r = await eventually(() => sys.call('GET', q, { key: 'viewer' }), (x) => x.body.churn?.decided === 1 && x.body.csat?.responses === 1, 'report');
    expect(r.body).toMatchObject({
      cases: 1,
      timeToAcknowledge: { target: '1h', count: 1, withinTarget: 1 },
      timeToResolution: { bySeverity: { low: { window: '48h', count: 1, withinTarget: 1 } } },
      csat: { target: 7, responses: 1, average: 8, atOrAboveTarget: 1 },
      churn: { decided: 1, churned: 1, rate: 1 },
      breaches: { total: 0 },
      bySegment: { smb: { cases: 1, churn: { rate: 1 } }, enterprise: { cases: 0, churn: { rate: null } } },
      bySeverity: { low: { cases: 1 }, critical: { cases: 0 } },
    });
    expect((await sys.call('GET', '/reports/escalations?from=2026-02-01&to=2026-01-01', { key: 'viewer' })).status).toBe(400);
  });

  test('a period includes its start and excludes its end, to the millisecond, on every store', async () => {
    // SQLite (the dev server) compares datetimes as text, PostgreSQL as timestamps: an exact-equal value
    // fails `=` and `<=` on the first and passes them on the second. The report asks only `>=` from and
    // `<` to, which both stores answer alike; this runs on both (npm test and npm run test:cluster).
    const c = await open({ customer: { ...openBody().customer, id: 'boundary-co', segment: 'mid-market' }, severity: 'medium' });
    const at = encodeURIComponent(c.openedAt as string);
    const count = (q: string) => sys.call('GET', `/reports/escalations?segment=mid-market&severity=medium&${q}`, { key: 'viewer' }).then((r) => r.body.cases as number);
    await eventually(() => count(`from=${at}`), (n) => n === 1, 'the case in a period that starts at its opening');
    expect(await count(`to=${at}`)).toBe(0);
    const after = encodeURIComponent(new Date(Date.parse(c.openedAt as string) + 1).toISOString());
    expect(await count(`from=${after}`)).toBe(0);
    expect(await count(`to=${after}`)).toBe(1);
  });
});

describe('the service itself', () => {
  test('health, OpenAPI generated from the schemas, docs and security headers', async () => {
    const h = await sys.call('GET', '/healthz', { key: null });
    expect(h.body).toEqual({ status: 'ok', temporal: 'reachable' });
    const spec = await sys.call('GET', '/openapi.json', { key: null });
    expect(spec.body.openapi).toBe('3.1.0');
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/escalations', '/escalations/{id}/tasks/{kind}/complete', '/reports/escalations']));
    expect(spec.body.components.schemas.OpenEscalation.properties.severity).toBeDefined();
    const docs = await fetch(`${sys.base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
    expect(h.headers.get('x-content-type-options')).toBe('nosniff');
    expect(h.headers.get('x-powered-by')).toBeNull();
  });

  test('503 with Retry-After when Temporal is unreachable', async () => {
    const connection = Connection.lazy(apiConnectionOptions({ address: '127.0.0.1:1', connectTimeout: '1s' }));
    const service = new EscalationService({ client: new Client({ connection }), taskQueue: 'q', policy: () => DEFAULT_POLICY });
    const app = createApp({ service, keys: parseApiKeys(`a:admin:${KEYS.admin}`), linkSecret: LINK_SECRET, logger: pino({ level: 'silent' }) });
    const server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const auth = { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' };
      const r = await fetch(`${base}/escalations`, { method: 'POST', headers: auth, body: JSON.stringify(openBody()) });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('temporal_unavailable');
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      // bad input is still a 400, Temporal or not
      expect((await fetch(`${base}/escalations`, { method: 'POST', headers: auth, body: '{}' })).status).toBe(400);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await connection.close();
    }
  });
});
