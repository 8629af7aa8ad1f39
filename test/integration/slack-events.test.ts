import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { PANEL_ACTIONS } from '../../playbook';
import { DEFAULT_ROSTER } from '../../config/settings';
import { eventually, openBody, startSystem, type System } from '../helpers/system';
import { resolveTeams } from '../../config/teams';
import { DEFAULT_POLICY } from '../../playbook';
import type { SlackMessage } from '../helpers/slack';

const SECRET = 'slack-signing-secret-for-tests';
const CHANNEL = 'C0CASES';
/** A support lead the roster knows by Slack id, the case's CSM known to Slack by email, and a stranger. */
const LEAD = { id: 'U0LEAD', name: 'Lee Park' };
const CSM = { id: 'U0CSM', name: openBody().csm.name, email: openBody().csm.email };
const STRANGER = { id: 'U0NEW', name: 'Robin Newcomer', email: 'robin@vendor.example' };

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ slackSigningSecret: SECRET, roster: { ...DEFAULT_ROSTER, supportLead: { name: LEAD.name, email: 'lee@vendor.example', slack: LEAD.id } } });
  sys.slack.users.push(CSM, STRANGER, { id: LEAD.id, name: LEAD.name });
}, 120_000);
afterAll(() => sys?.stop());

/** Sends a request as Slack does: form-encoded, signed with the secret over `v0:<timestamp>:<body>`. */
async function slack(form: Record<string, string>, o: { secret?: string; age?: number; to?: System } = {}) {
  const body = new URLSearchParams(form).toString();
  const ts = String(Math.floor(Date.now() / 1000) - (o.age ?? 0));
  const signature = `v0=${createHmac('sha256', o.secret ?? SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  const res = await fetch(`${(o.to ?? sys).base}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}
const interact = (payload: object, o?: { secret?: string; age?: number; to?: System }) => slack({ payload: JSON.stringify(payload) }, o);
const blockAction = (user: string, action: Record<string, unknown>) =>
  interact({ type: 'block_actions', user: { id: user }, channel: { id: CHANNEL }, trigger_id: `trig-${Math.random()}`, actions: [action] });
const button = (user: string, action_id: string, value: string) => blockAction(user, { type: 'button', action_id, value, block_id: 'b' });
const menu = (user: string, action_id: string, value: string) => blockAction(user, { type: 'static_select', action_id, selected_option: { value }, block_id: 'b' });
const submit = (user: string, callback_id: string, meta: object, values: Record<string, Record<string, unknown>>) =>
  interact({ type: 'view_submission', user: { id: user }, view: { id: 'V1', callback_id, private_metadata: JSON.stringify(meta), state: { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])) } } });

async function openCase() {
  const r = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ severity: 'high' }) });
  expect(r.status).toBe(201);
  const id = r.body.id as string;
  const root = await eventually(async () => sys.slack.roots(id)[0], (m) => m !== undefined, 'the root post');
  return { id, root: root! };
}
const view = async (id: string) => (await sys.call('GET', `/escalations/${id}`, { key: 'viewer' })).body;
const actionIds = (m: SlackMessage) => ((m.blocks ?? []).find((b) => b.type === 'actions')?.elements as { action_id: string }[] | undefined)?.map((e) => e.action_id) ?? [];
const stateLine = (m: SlackMessage) => JSON.stringify((m.blocks ?? []).find((b) => b.block_id === 'state'));

describe('Slack interactivity at /slack/events (Bolt, signed requests, the real Slack client against a local Web API)', () => {
  test('the root post is the control panel: acknowledge from Slack acts as the roster person, and the post is updated in place', async () => {
    const { id, root } = await openCase();
    const before = JSON.parse(JSON.stringify(root.blocks)) as object[];
    expect(actionIds(root)).toEqual([PANEL_ACTIONS.acknowledge, PANEL_ACTIONS.escalate]);
    expect(stateLine(root)).toContain('*Stage:* acknowledge');
    console.log(`root post before acknowledge:\n${JSON.stringify(before)}`);

    const r = await button(LEAD.id, PANEL_ACTIONS.acknowledge, id);
    expect(r.status).toBe(200);
    const acked = await eventually(() => view(id), (c) => c.stage === 'investigate', 'acknowledged');
    expect(acked.timeline.find((e: { type: string }) => e.type === 'acknowledged').actor).toBe(LEAD.name);
    const updated = await eventually(async () => sys.slack.roots(id)[0], (m) => stateLine(m).includes('investigate'), 'the root post updated in place');
    expect(updated.ts).toBe(root.ts);
    expect(sys.slack.roots(id)).toHaveLength(1);
    expect(actionIds(updated)).toEqual([PANEL_ACTIONS.update, PANEL_ACTIONS.resolve, PANEL_ACTIONS.pause, PANEL_ACTIONS.escalate]);
    console.log(`root post after acknowledge:\n${JSON.stringify(updated.blocks)}`);

    // A change made through the API (not Slack) updates the panel too.
    await sys.call('POST', `/escalations/${id}/pause`, { key: 'agent', body: { reason: 'waiting_on_customer' } });
    const paused = await eventually(async () => sys.slack.roots(id)[0], (m) => stateLine(m).includes('paused'), 'the panel shows the pause');
    expect(actionIds(paused)).toContain(PANEL_ACTIONS.resume);
  });

  test('the update modal: opened by the button; a submission the lint refuses shows the reason beside the field; a good one is sent as the CSM', async () => {
    const { id } = await openCase();
    await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: {} });
    const opened = sys.slack.views.length;
    expect((await button(CSM.id, PANEL_ACTIONS.update, id)).status).toBe(200);
    const modal = await eventually(async () => sys.slack.views[opened], (v) => v !== undefined, 'the modal');
    expect(modal!.view.callback_id).toBe('escalation.update');
    const meta = JSON.parse(String(modal!.view.private_metadata));

    const refused = await submit(CSM.id, 'escalation.update', meta, { known: { value: "I'll look into it" } });
    expect(refused.status).toBe(200);
    const errors = refused.json();
    expect(errors.response_action).toBe('errors');
    expect(Object.keys(errors.errors as object)).toEqual(expect.arrayContaining(['known']));
    expect((await view(id)).updates).toBe(0);

    const next = Math.floor(Date.now() / 1000) + 3 * 3600;
    const ok = await submit(CSM.id, 'escalation.update', meta, { known: { value: 'The nightly sync times out on large files' }, nextUpdateAt: { selected_date_time: next } });
    expect([ok.status, ok.text]).toEqual([200, '']);
    const c = await view(id);
    expect(c.updates).toBe(1);
    expect(c.timeline.find((e: { type: string }) => e.type === 'update').actor).toBe(CSM.name);
  });

  test('menus: escalate internally and pause; resume and resolve buttons; a refused action is told to that user alone; a stranger acts under their Slack name', async () => {
    const { id } = await openCase();
    // Too early to pause: refused, told only to the one who clicked, nothing changes.
    const told = sys.slack.ephemeral.length;
    await menu(STRANGER.id, PANEL_ACTIONS.pause, `${id}|waiting_on_customer`);
    const note = await eventually(async () => sys.slack.ephemeral.slice(told), (e) => e.length === 1, 'the ephemeral refusal');
    expect(note[0]).toMatchObject({ user: STRANGER.id, channel: CHANNEL });
    expect(note[0].text).toMatch(/pause.*stage "acknowledge"/i);
    expect((await view(id)).paused).toBeNull();

    await button(STRANGER.id, PANEL_ACTIONS.acknowledge, id);
    await eventually(() => view(id), (c) => c.stage === 'investigate', 'acknowledged');
    await menu(STRANGER.id, PANEL_ACTIONS.escalate, `${id}|engineering_required`);
    const escalated = await eventually(() => view(id), (c) => c.internalEscalations.some((e: { trigger: string }) => e.trigger === 'engineering_required'), 'escalated');
    expect(escalated.timeline.find((e: { type: string; actor?: string }) => e.type === 'internal_escalation' && e.actor).actor).toBe(`${STRANGER.name} (Slack ${STRANGER.id})`);
    await menu(STRANGER.id, PANEL_ACTIONS.pause, `${id}|waiting_on_third_party`);
    await eventually(() => view(id), (c) => c.paused?.reason === 'waiting_on_third_party', 'paused');
    await button(STRANGER.id, PANEL_ACTIONS.resume, id);
    await eventually(() => view(id), (c) => c.paused === null, 'resumed');

    const opened = sys.slack.views.length;
    await button(CSM.id, PANEL_ACTIONS.resolve, id);
    const modal = await eventually(async () => sys.slack.views[opened], (v) => v !== undefined, 'the resolve modal');
    const meta = JSON.parse(String(modal!.view.private_metadata));
    const ok = await submit(CSM.id, 'escalation.resolve', meta, { rootCause: { value: 'A bad index' }, fix: { value: 'Rebuilt the index' }, prevention: { value: 'Alerting on index health' } });
    expect(ok.status).toBe(200);
    expect((await view(id)).stage).toBe('resolve');
  });

  test('/escalation: help, mine (only the caller, soonest first) and open (a modal whose submission opens a case as the caller)', async () => {
    const command = (text: string, user = CSM.id) =>
      slack({ command: '/escalation', text, user_id: user, channel_id: CHANNEL, trigger_id: `trig-${Math.random()}`, response_url: `${sys.slack.apiUrl}response`, team_id: 'T1' });
    const help = await command('help');
    expect(help.status).toBe(200);
    expect(help.json().text).toMatch(/\/escalation open/);

    const { id } = await openCase();
    const mine = await command('mine');
    expect(mine.json()).toMatchObject({ response_type: 'ephemeral' });
    expect(String(mine.json().text)).toContain(id);
    expect(String((await command('mine', STRANGER.id)).json().text)).toBe('You have no open cases.');

    const opened = sys.slack.views.length;
    expect((await command('open')).status).toBe(200);
    const modal = await eventually(async () => sys.slack.views[opened], (v) => v !== undefined, 'the open modal');
    expect(modal!.view.callback_id).toBe('escalation.open');
    const meta = JSON.parse(String(modal!.view.private_metadata));
    const fields = {
      'customer.id': { value: 'globex' },
      'customer.name': { value: 'Globex' },
      'customer.segment': { selected_option: { value: 'enterprise' } },
      'customer.arr': { value: '250000' },
      'customer.healthScore': { value: '62' },
      'contact.name': { value: 'Hank Scorpio' },
      'contact.email': { value: 'not-an-email' },
      severity: { selected_option: { value: 'critical' } },
      category: { selected_option: { value: 'technical' } },
      trigger: { value: 'Outage' },
      title: { value: 'Exports fail' },
      impact: { value: 'Month-end close blocked' },
    };
    const bad = await submit(STRANGER.id, 'escalation.open', meta, fields);
    expect(bad.json()).toMatchObject({ response_action: 'errors', errors: { 'contact.email': expect.any(String) } });
    const told = sys.slack.ephemeral.length;
    const good = await submit(STRANGER.id, 'escalation.open', meta, { ...fields, 'contact.email': { value: 'hank@globex.example' } });
    expect([good.status, good.text]).toEqual([200, '']);
    const note = await eventually(async () => sys.slack.ephemeral.slice(told), (e) => e.length === 1, 'the confirmation');
    const caseId = /`([^`]+)`/.exec(note[0].text)![1];
    const c = await view(caseId);
    expect(c.csm).toEqual({ name: STRANGER.name, email: STRANGER.email });
    expect(c.customer.name).toBe('Globex');
  });

  test('a bad signature, an old timestamp (a replayed request) and no signature are 401 and change nothing', async () => {
    const { id } = await openCase();
    const payload = { type: 'block_actions', user: { id: LEAD.id }, channel: { id: CHANNEL }, actions: [{ type: 'button', action_id: PANEL_ACTIONS.acknowledge, value: id }] };
    expect((await interact(payload, { secret: 'not-the-secret-at-all' })).status).toBe(401);
    expect((await interact(payload, { age: 6 * 60 })).status).toBe(401);
    const unsigned = await fetch(`${sys.base}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `payload=${encodeURIComponent(JSON.stringify(payload))}` });
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(id)).stage).toBe('acknowledge');
  });
});

test('without SLACK_SIGNING_SECRET, /slack/events is 404', async () => {
  const other = await startSystem({ env: sys.env });
  try {
    const r = await other.call('POST', '/slack/events', { key: null, body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(404);
  } finally {
    await other.stop();
  }
});

test('500 generated requests to /slack/events — any signature, any form, any payload — get no 5xx and leave the API healthy', async () => {
  const other = await startSystem({ env: sys.env, slackSigningSecret: SECRET, slackUnhandledAfterMs: 150 });
  const counts: Record<number, number> = {};
  try {
    const { id } = await (async () => {
      const r = await other.call('POST', '/escalations', { key: 'agent', body: openBody() });
      return { id: r.body.id as string };
    })();
    const ids = Object.values(PANEL_ACTIONS);
    const payload = fc.oneof(
      fc.record({
        type: fc.constantFrom('block_actions', 'view_submission', 'shortcut', 'event_callback', 'nonsense'),
        user: fc.oneof(fc.record({ id: fc.constantFrom(LEAD.id, CSM.id, 'U?') }), fc.jsonValue()),
        channel: fc.option(fc.record({ id: fc.constantFrom(CHANNEL, '') })),
        actions: fc.array(fc.record({ action_id: fc.constantFrom(...ids, 'x'), value: fc.oneof(fc.constant(id), fc.string(), fc.constant(`${id}|nonsense`)), selected_option: fc.option(fc.record({ value: fc.string() })) }), { maxLength: 2 }),
        view: fc.option(fc.record({ callback_id: fc.constantFrom('escalation.update', 'escalation.resolve', 'escalation.open', 'x'), private_metadata: fc.oneof(fc.constant(JSON.stringify({ caseId: id })), fc.string()), state: fc.record({ values: fc.jsonValue() }) })),
      }).map((p) => ({ payload: JSON.stringify(p) })),
      fc.record({ command: fc.constantFrom('/escalation', '/other'), text: fc.oneof(fc.constantFrom('open', 'mine', 'help', ''), fc.string()), user_id: fc.constantFrom(CSM.id, 'U?'), channel_id: fc.constant(CHANNEL), trigger_id: fc.string() }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 40 })),
    );
    await fc.assert(
      fc.asyncProperty(payload, fc.constantFrom('good', 'bad', 'old', 'none'), fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'), async (form, sig, type) => {
        const body = type === 'application/json' ? JSON.stringify(form) : new URLSearchParams(form as Record<string, string>).toString();
        const ts = String(Math.floor(Date.now() / 1000) - (sig === 'old' ? 600 : 0));
        const signature = `v0=${createHmac('sha256', sig === 'bad' ? 'wrong-secret-wrong' : SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
        const headers: Record<string, string> = { 'content-type': type, ...(sig === 'none' ? {} : { 'x-slack-request-timestamp': ts, 'x-slack-signature': signature }) };
        const res = await fetch(`${other.base}/slack/events`, { method: 'POST', headers, body });
        await res.text();
        counts[res.status] = (counts[res.status] ?? 0) + 1;
        if (res.status >= 500) throw new Error(`${res.status} for ${body.slice(0, 300)}`);
        if (sig !== 'good' && res.status !== 401) throw new Error(`an unverified request got ${res.status}`);
      }),
      { numRuns: 500, seed: 12_345, endOnFailure: true },
    );
    console.log(`/slack/events, 500 generated requests: ${JSON.stringify(counts)}`);
    expect((await other.call('GET', '/healthz', { key: null })).status).toBe(200);
  } finally {
    await other.stop();
  }
}, 300_000);

describe('Slack users act where they are members of the case’s team (once the config names members)', () => {
  const EVA = { id: 'U0EVA', name: 'Eva Berg', email: 'eva@vendor.example' };
  const { teams } = resolveTeams(
    {
      amer: { name: 'Americas', roster: {}, slack: { channel: 'C0AMER' }, policy: {}, members: { [EVA.email]: 'agent' } },
      emea: { name: 'EMEA', roster: {}, slack: { channel: 'C0EMEA' }, policy: {}, members: { [STRANGER.email]: 'admin' } },
    },
    'amer',
    { roster: DEFAULT_ROSTER, slackChannel: CHANNEL, policy: { ...DEFAULT_POLICY } },
    [],
  );
  let teamSys: System;
  beforeAll(async () => {
    teamSys = await startSystem({ slackSigningSecret: SECRET, teams, env: sys.env });
    teamSys.slack.users.push(CSM, STRANGER, EVA);
  }, 120_000);
  afterAll(() => teamSys?.stop());
  const press = (user: string, action_id: string, value: string) =>
    interact({ type: 'block_actions', user: { id: user }, channel: { id: 'C0AMER' }, trigger_id: `trig-${Math.random()}`, actions: [{ type: 'button', action_id, value, block_id: 'b' }] }, { to: teamSys });
  const stageOf = async (id: string) => (await teamSys.call('GET', `/escalations/${id}`)).body as { stage: string; timeline: { type: string; actor?: string }[] };

  test('a member of another team is refused alone, as if the case did not exist; a member of its team and its CSM act', async () => {
    const open = async (customer: string) => (await teamSys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: customer } }) })).body.id as string;
    const [first, second] = [await open('slack-a'), await open('slack-b')];
    expect((await press(STRANGER.id, PANEL_ACTIONS.acknowledge, first)).status).toBe(200);
    const told = await eventually(async () => teamSys.slack.ephemeral.filter((e) => e.user === STRANGER.id), (x) => x.length === 1, 'the refusal, to that user alone');
    expect(told[0].text).toBe(`:no_entry: Not done (acknowledge): No escalation with id ${first}`);
    expect((await stageOf(first)).stage).toBe('acknowledge');

    await press(EVA.id, PANEL_ACTIONS.acknowledge, first);
    const acked = await eventually(() => stageOf(first), (c) => c.stage === 'investigate', 'acknowledged by the member');
    expect(acked.timeline.find((e) => e.type === 'acknowledged')?.actor).toBe('Eva Berg (Slack U0EVA)');
    // Its CSM is no member of any team, and acts on the cases they own.
    await press(CSM.id, PANEL_ACTIONS.acknowledge, second);
    await eventually(() => stageOf(second), (c) => c.stage === 'investigate', 'acknowledged by the CSM');
  });
});
