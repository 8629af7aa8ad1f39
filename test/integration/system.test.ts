import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY } from '../../playbook';
import { SA } from '../../workflows/messages';
import { devServerEnv } from '../helpers/temporal';
import { eventually, openBody, startSystem, type System } from '../helpers/system';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnv();
}, 120_000);
afterAll(() => env?.teardown());

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('a case from open to recovery, end to end with the real worker and senders', () => {
  let sys: System;
  beforeAll(async () => {
    // The follow-up goes out 3s after confirmation, so the whole case runs in real time here.
    sys = await startSystem({ env, policy: { ...DEFAULT_POLICY, followUpAfter: '3s' } });
  }, 120_000);
  afterAll(() => sys?.stop());

  test("the playbook's customer emails, in order, in one thread, and the internal alerts to the roles it names — nothing more, nothing less", async () => {
    const open = await sys.call('POST', '/escalations', { key: 'agent', body: openBody() });
    const id = open.body.id as string;
    const act = (path: string, body: unknown) => sys.call('POST', `/escalations/${id}/${path}`, { key: 'agent', body });
    await act('acknowledge', { nextUpdateAt: inHours(0.75) });
    await act('updates', { known: 'Large exports crash the sync worker', nextUpdateAt: inHours(1) });
    await act('internal-escalations', { trigger: 'engineering_required', note: 'Needs a hotfix to the sync worker', ask: 'Patch today' });
    await act('resolve', { rootCause: 'A memory limit', fix: 'streamed uploads', prevention: 'load tests on 5GB files' });
    await act('confirmation', { resolved: true });
    const recovered = await eventually(
      () => sys.call('GET', `/escalations/${id}`, { key: 'viewer' }),
      (r) => r.body.stage === 'recovery' && r.body.messages.every((m: { status: string }) => m.status !== 'pending'),
      'recovery with every message delivered',
    );
    expect(recovered.body.messages.every((m: { status: string }) => m.status === 'sent')).toBe(true);

    const mails = sys.smtp.received;
    const customer = mails.filter((m) => m.envelopeTo.includes('dana@acme.example'));
    expect(customer.map((m) => m.mail.subject)).toEqual([
      "Re: Data sync failing — We're on it",
      'Update on Data sync failing',
      'Resolved: Data sync failing',
      'Checking in on Data sync failing',
    ]);
    const ids = customer.map((m) => m.mail.messageId);
    customer.slice(1).forEach((m, i) => {
      expect(m.mail.inReplyTo).toBe(ids[i]);
      expect(m.mail.references).toEqual(ids.slice(0, i + 1).length === 1 ? ids[0] : ids.slice(0, i + 1));
    });
    expect(customer.every((m) => m.envelopeTo.length === 1)).toBe(true);

    const internal = mails.filter((m) => !m.envelopeTo.includes('dana@acme.example'));
    expect(internal.map((m) => [m.mail.subject, m.envelopeTo])).toEqual([
      ['[ESCALATION - Critical] Acme Corp - Data sync failing', ['sam@vendor.example', 'supportlead@localhost', 'engineering@localhost']],
      ['[ESCALATION - Critical] Acme Corp - Data sync failing', ['supportlead@localhost', 'engineering@localhost']],
    ]);
    expect(internal[1].mail.text).toContain('Engineering required');
    expect(internal[1].mail.text).toContain('Ask: Patch today');

    const posts = sys.slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts).toHaveLength(2);
    expect(posts[0].args.thread_ts).toBeUndefined();
    expect(posts[1].args.thread_ts).toEqual(expect.stringMatching(/^\d+\.\d+$/));
    expect(posts.every((p) => p.args.channel === 'C0CASES')).toBe(true);
  });

  test('a customer email refused by the mail server is recorded with its reason and the CSM is told on Slack; the case goes on', async () => {
    sys.slack.calls.length = 0;
    const open = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ severity: 'medium', contact: { name: 'Ghost', email: 'ghost@reject.test' } }) });
    const id = open.body.id as string;
    const ack = await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: {} });
    expect(ack.status).toBe(200);
    const c = await eventually(
      () => sys.call('GET', `/escalations/${id}`, { key: 'viewer' }),
      (r) => r.body.messages.some((m: { kind: string; status: string }) => m.kind === 'delivery_failed' && m.status === 'sent'),
      'delivery failure notice',
    );
    const failed = c.body.messages.find((m: { kind: string }) => m.kind === 'acknowledgement');
    expect(failed).toMatchObject({ status: 'failed', reason: expect.stringMatching(/SMTP 550/) });
    expect(c.body.messages.find((m: { kind: string }) => m.kind === 'delivery_failed')).toMatchObject({ channel: 'slack' });
    expect(sys.slack.calls.at(-1)!.args.text).toMatch(/acknowledgement message by email failed: SMTP 550/);
    expect(c.body.timeline.map((e: { type: string }) => e.type)).toContain('delivery_failed');
    expect(c.body.stage).toBe('investigate');
  });
});

describe('visibility on the dev server', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({ env, policy: { ...DEFAULT_POLICY, acknowledgeWithin: '2s' } });
  }, 120_000);
  afterAll(() => sys?.stop());

  test('cases are found by their search attributes with a visibility query', async () => {
    const customer = { ...openBody().customer, id: 'vis-co', segment: 'mid-market' };
    const a = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer, severity: 'critical' }) });
    const b = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer, severity: 'low' }) });
    await sys.call('POST', `/escalations/${b.body.id}/acknowledge`, { key: 'agent', body: {} });
    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const wf of sys.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.sort();
    };
    // a is never acknowledged: it breaches after 2s
    const breached = await eventually(
      () => list(`${SA.customerId.name} = 'vis-co' AND ${SA.breached.name} = true`),
      (ids) => ids.length === 1,
      'the breached case',
    );
    expect(breached).toEqual([a.body.workflowId]);
    expect(await list(`${SA.customerId.name} = 'vis-co' AND ${SA.segment.name} = 'mid-market' AND ${SA.severity.name} = 'low' AND ${SA.stage.name} = 'investigate'`)).toEqual([b.body.workflowId]);
    expect(await list(`${SA.customerId.name} = 'vis-co' AND ${SA.breachKinds.name} IN ('acknowledge')`)).toEqual([a.body.workflowId]);
    expect(await list(`${SA.customerId.name} = 'vis-co' AND ${SA.ackSeconds.name} < 60`)).toEqual([b.body.workflowId]);
    const desc = await sys.client.workflow.getHandle(a.body.workflowId).describe();
    expect(desc.typedSearchAttributes.get(SA.nextDeadline)).toBeInstanceOf(Date);
    expect(await desc.staticSummary()).toBe('[Critical] Acme Corp — Data sync failing');
    const api = await sys.call('GET', '/escalations?customerId=vis-co&breached=true', { key: 'viewer' });
    expect(api.body.items.map((x: { id: string }) => x.id)).toEqual([a.body.id]);
  });
});
