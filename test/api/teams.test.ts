/**
 * Teams on the real API, worker and dev server: two teams with their own people, channel, windows and
 * calendar side by side; every endpoint × {own team, other team, no role in the case's team, every
 * team} × every role, deny by default; a transfer end to end.
 */
import { ACTIONS } from '../../playbook';
import { ACTION_ROUTES } from '../../api/routes';
import { resolveTeams, type TeamConfig } from '../../config/teams';
import { DEFAULT_ROSTER } from '../../config/settings';
import { DEFAULT_POLICY } from '../../playbook';
import { KEYS, eventually, openBody, startSystem, type System } from '../helpers/system';
import { prepareStart } from '../../api/service';
import { ESCALATION_WORKFLOW } from '../../workflows/messages';
import { DEFAULT_LIMITS } from '../../playbook';

const person = (name: string, email: string, slack?: string) => ({ name, email, ...(slack ? { slack } : {}) });
const calendars = {
  'us-east': { name: 'us-east', timezone: 'America/New_York', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] },
  emea: { name: 'emea', timezone: 'Europe/Berlin', hours: { mon: ['08:00-18:00'], tue: ['08:00-18:00'], wed: ['08:00-18:00'], thu: ['08:00-18:00'], fri: ['08:00-18:00'] }, holidays: [] },
};
const raw: Record<string, TeamConfig> = {
  amer: {
    name: 'Americas',
    roster: { supportLead: person('Lee Park', 'lee@amer.example'), engineering: person('Amer on-call', 'oncall@amer.example') },
    slack: { channel: 'C0AMER' },
    policy: { respondWithin: { critical: '2h' } },
    calendar: 'us-east',
    members: {},
  },
  emea: {
    name: 'EMEA',
    roster: { supportLead: person('Eva Berg', 'eva@emea.example'), engineering: person('EMEA on-call', 'oncall@emea.example') },
    slack: { channel: 'C0EMEA' },
    policy: { acknowledgeWithin: '30m' },
    calendar: 'emea',
    members: {},
  },
  apac: { name: 'APAC', roster: {}, slack: { channel: 'C0APAC' }, policy: {}, members: {} },
};
const { teams, issues } = resolveTeams(raw, undefined, { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } }, Object.keys(calendars));

const ROLES = ['viewer', 'agent', 'admin'] as const;
type Role = (typeof ROLES)[number];
/** Keys that hold their role in team amer only, and in team apac only (no role where the cases are). */
const scoped = (team: string, role: Role) => `${role}-${team}-key-0123456789abcdef`;
const moreKeys = ['amer', 'apac', 'default'].flatMap((team) => ROLES.map((role) => `${role}-${team}:${role}:${scoped(team, role)}:${team}`));

let sys: System;
let amerCase: string;
let emeaCase: string;
beforeAll(async () => {
  expect(issues).toEqual([]);
  sys = await startSystem({ teams, calendars, moreKeys });
  const a = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'amer', customer: { ...openBody().customer, id: 'globex' } }) });
  const e = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'emea' }) });
  expect([a.status, e.status]).toEqual([201, 201]);
  amerCase = a.body.id;
  emeaCase = e.body.id;
}, 120_000);
afterAll(() => sys?.stop());

describe('two teams side by side', () => {
  test('each case takes its team: its windows and calendar, its people by email, its channel in Slack', async () => {
    const [a, e] = await Promise.all([sys.call('GET', `/escalations/${amerCase}`), sys.call('GET', `/escalations/${emeaCase}`)]);
    expect([a.body.team, e.body.team]).toEqual(['amer', 'emea']);
    expect([a.body.calendar, e.body.calendar]).toEqual(['us-east', 'emea']);
    expect([a.body.policy.respondWithin.critical, a.body.policy.acknowledgeWithin]).toEqual(['2h', '1h']);
    expect([e.body.policy.respondWithin.critical, e.body.policy.acknowledgeWithin]).toEqual(['1h', '30m']);
    // The opening alert: the CSM and the severity's roles of the case's own team.
    const alertTo = (id: string) => sys.smtp.received.filter((m) => m.mail.messageId?.includes(id)).map((m) => m.envelopeTo.sort());
    await eventually(async () => [alertTo(amerCase), alertTo(emeaCase)], ([x, y]) => x.length > 0 && y.length > 0, 'the opening alerts');
    expect(alertTo(amerCase)).toEqual([['lee@amer.example', 'oncall@amer.example', 'sam@vendor.example']]);
    expect(alertTo(emeaCase)).toEqual([['eva@emea.example', 'oncall@emea.example', 'sam@vendor.example']]);
    await eventually(async () => [sys.slack.roots(amerCase), sys.slack.roots(emeaCase)], ([x, y]) => x.length === 1 && y.length === 1, 'the root posts');
    expect([sys.slack.roots(amerCase)[0].channel, sys.slack.roots(emeaCase)[0].channel]).toEqual(['C0AMER', 'C0EMEA']);
  });

  test('an open names its team when there are several: none or an unknown one is a 400 naming the known ones', async () => {
    const none = await sys.call('POST', '/escalations', { key: 'agent', body: openBody() });
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual([{ field: 'team', message: 'required: there is more than one team (known: amer, emea, apac)' }]);
    const unknown = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'mars' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ field: 'team', message: 'no such team (known: amer, emea, apac)' }]);
  });

  test('the list, its team filter and the report show a key only its teams’ cases; a team outside them is 403', async () => {
    const ids = async (key: string, q = '') => ((await sys.call('GET', `/escalations?limit=100${q}`, { key })).body.items as { id: string }[]).map((i) => i.id);
    await eventually(() => ids('viewer'), (all) => all.includes(amerCase) && all.includes(emeaCase), 'both cases listed');
    const amerOnly = await ids(scoped('amer', 'viewer'));
    expect(amerOnly).toContain(amerCase);
    expect(amerOnly).not.toContain(emeaCase);
    expect(await ids(scoped('apac', 'admin'))).toEqual([]);
    expect(await ids('viewer', '&team=emea')).toEqual(expect.arrayContaining([emeaCase]));
    expect(await ids('viewer', '&team=emea')).not.toContain(amerCase);
    const unknown = await sys.call('GET', '/escalations?team=mars', { key: 'viewer' });
    expect([unknown.status, unknown.body.error.details]).toEqual([400, [{ field: 'team', message: 'no such team (known: amer, emea, apac)' }]]);
    const outside = await sys.call('GET', '/escalations?team=emea', { key: scoped('amer', 'admin') });
    expect(outside.status).toBe(403);
    expect((await sys.call('GET', '/reports/escalations?team=emea', { key: scoped('amer', 'viewer') })).status).toBe(403);
    const report = await sys.call('GET', '/reports/escalations?team=amer', { key: scoped('amer', 'viewer') });
    expect(report.status).toBe(200);
    expect(report.body.filters.team).toBe('amer');
  });

  test('inbound email from a team key reaches its teams’ cases only; the inbound key any case', async () => {
    const raw = (id: string) => `From: Dana <dana@acme.example>\r\nTo: escalations+${id}@vendor.example\r\nSubject: Re: logs\r\nMessage-ID: <r-${id}-${Date.now()}@acme.example>\r\n\r\nHere are the logs.\r\n`;
    const post = (key: string, id: string) => sys.call('POST', '/inbound/email', { key, body: raw(id), headers: { 'content-type': 'message/rfc822' } });
    const other = await post(scoped('amer', 'agent'), emeaCase);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('unmatched_reply');
    expect((await post(scoped('amer', 'agent'), amerCase)).status).toBe(200);
    expect((await post('inbound', emeaCase)).status).toBe(200);
  });
});

describe('authorization matrix: every endpoint × own team, other team, no role there, every team × every role', () => {
  /** Each request an endpoint takes for a case, with a body that passes its schema. */
  const endpoints = [
    { name: 'GET /escalations/{id}', method: 'GET', path: (id: string) => `/escalations/${id}`, need: 'viewer' as Role, body: undefined as unknown },
    ...ACTION_ROUTES.map((r) => ({
      name: `POST ${r.template}`,
      method: 'POST',
      path: (id: string) => r.template.replace('{id}', id).replace('{kind}', 'health_check'),
      need: r.role as Role,
      // A transfer to the case's own team is refused (409) where it is allowed at all: the matrix changes no team.
      body: r.action === 'transfer' ? { team: 'TEAM', reason: 'matrix' } : (ACTIONS[r.action].example as unknown),
    })),
  ];
  const RANK = { viewer: 0, agent: 1, admin: 2 };
  const cases = () => [
    { where: 'own team', id: amerCase, team: 'amer', key: (r: Role) => scoped('amer', r), reads: true },
    { where: 'other team', id: emeaCase, team: 'emea', key: (r: Role) => scoped('amer', r), reads: false },
    { where: 'no role in its team', id: amerCase, team: 'amer', key: (r: Role) => scoped('apac', r), reads: false },
    { where: 'every team', id: emeaCase, team: 'emea', key: (r: Role) => KEYS[r], reads: true },
  ];

  test.each(ROLES)('role %s', async (role) => {
    const seen: string[] = [];
    for (const c of cases()) {
      const before = (await sys.call('GET', `/escalations/${c.id}`)).body;
      // Closing last: an admin who may closes the case, and every action after it would meet a closed case.
      for (const e of [...endpoints].sort((x, y) => Number(x.name.endsWith('/close')) - Number(y.name.endsWith('/close')))) {
        const body = e.body && typeof e.body === 'object' && 'team' in e.body ? { ...e.body, team: c.team } : e.body;
        const r = await sys.call(e.method, e.path(c.id), { key: c.key(role), body });
        const unknown = await sys.call(e.method, e.path('no-such-case-0'), { key: c.key(role), body });
        const row = `${e.name} as ${role} (${c.where}) → ${r.status}`;
        seen.push(row);
        if (!c.reads) {
          // Exactly what an unknown id answers: no sign the case exists. That is 404, unless the key's
          // role could not take the endpoint on any case (403 for the unknown id too).
          expect([row, r.status, r.body]).toEqual([row, unknown.status, JSON.parse(JSON.stringify(unknown.body).replaceAll('no-such-case-0', c.id))]);
          expect([row, r.status]).toEqual([row, RANK[role] < RANK[e.need] ? 403 : 404]);
        } else if (RANK[role] < RANK[e.need]) {
          expect([row, r.status]).toEqual([row, 403]);
        } else {
          expect([row, [403, 404].includes(r.status)]).toEqual([row, false]);
          expect([row, r.status < 500]).toEqual([row, true]);
        }
      }
      if (!c.reads) {
        // Nothing of the case changed: not its timeline, not its messages.
        const after = (await sys.call('GET', `/escalations/${c.id}`)).body;
        expect([after.timeline.length, after.messages.length, after.stage]).toEqual([before.timeline.length, before.messages.length, before.stage]);
      }
    }
    expect(seen.length).toBe(cases().length * endpoints.length);
  }, 120_000);

  test('opening: agent in the team asked for; a key of another team is 403, a viewer is 403', async () => {
    const open = (key: string, team: string) => sys.call('POST', '/escalations', { key, body: openBody({ team, customer: { ...openBody().customer, id: `open-${team}` } }) });
    expect((await open(scoped('amer', 'agent'), 'emea')).status).toBe(403);
    expect((await open(scoped('amer', 'viewer'), 'amer')).status).toBe(403);
    expect((await open(scoped('apac', 'admin'), 'amer')).status).toBe(403);
    expect((await open(scoped('apac', 'agent'), 'apac')).status).toBe(201);
  });

});

describe('a case opened before teams', () => {
  test("is default's: it reads as team default, is listed by team=default, and only keys with a role in default see it", async () => {
    // Started as the API started cases before teams: no team in its input, no team attribute.
    const { options, params } = prepareStart(sys.taskQueue, openBody({ customer: { ...openBody().customer, id: 'legacy' } }) as never, { caseId: 'legacy-0001', policy: { ...DEFAULT_POLICY }, limits: { ...DEFAULT_LIMITS } });
    expect(params.team).toBeUndefined();
    await sys.client.workflow.start(ESCALATION_WORKFLOW, options);
    const view = await sys.call('GET', '/escalations/legacy-0001');
    expect([view.status, view.body.team, view.body.formerTeams]).toEqual([200, 'default', []]);
    const listed = await eventually(
      async () => ((await sys.call('GET', '/escalations?team=default&limit=100')).body.items as { id: string; team: string }[]),
      (items) => items.some((i) => i.id === 'legacy-0001'),
      'the old case under team=default',
    );
    expect(listed.find((i) => i.id === 'legacy-0001')?.team).toBe('default');
    expect(listed.some((i) => i.id === amerCase)).toBe(false);
    expect((await sys.call('GET', '/escalations/legacy-0001', { key: scoped('default', 'viewer') })).status).toBe(200);
    const mine = ((await sys.call('GET', '/escalations?limit=100', { key: scoped('default', 'viewer') })).body.items as { id: string }[]).map((i) => i.id);
    expect(mine).toEqual(['legacy-0001']);
    expect((await sys.call('GET', '/escalations/legacy-0001', { key: scoped('amer', 'admin') })).status).toBe(404);
    // Its messages go to the top-level roster and channel, as before teams.
    await eventually(async () => sys.slack.roots('legacy-0001'), (r) => r.length === 1, 'its root post');
    expect(sys.slack.roots('legacy-0001')[0].channel).toBe('C0CASES');
  });
});

describe('a transfer', () => {
  test('moves the case with its clocks: the new team is told in its channel, linked to the old thread; the old team reads and cannot act', async () => {
    const open = await sys.call('POST', '/escalations', { key: scoped('amer', 'agent'), body: openBody({ team: 'amer', customer: { ...openBody().customer, id: 'initech' } }) });
    const id = open.body.id as string;
    const oldRoot = await eventually(async () => sys.slack.roots(id), (r) => r.length === 1, 'the amer thread');
    const before = (await sys.call('GET', `/escalations/${id}`)).body;

    const moved = await sys.call('POST', `/escalations/${id}/transfer`, { key: scoped('amer', 'agent'), body: { team: 'emea', reason: 'Served from Berlin now' } });
    expect(moved.status).toBe(200);
    expect(moved.body.deadlines).toEqual(before.deadlines);
    const after = (await sys.call('GET', `/escalations/${id}`)).body;
    expect([after.team, after.formerTeams, after.deadlines]).toEqual(['emea', ['amer'], before.deadlines]);
    expect(after.timeline.at(-1)).toMatchObject({ type: 'transferred', actor: 'agent-amer', summary: 'Transferred from amer to emea: Served from Berlin now' });

    // EMEA's people by email; a new root post in EMEA's channel that links the old thread.
    const told = await eventually(async () => sys.smtp.received.filter((m) => m.mail.subject?.startsWith('[Transferred to EMEA')), (x) => x.length === 1, 'the transfer email');
    expect(told[0].envelopeTo.sort()).toEqual(['eva@emea.example', 'oncall@emea.example', 'sam@vendor.example']);
    expect(told[0].mail.text).toContain('Reason: Served from Berlin now');
    const roots = await eventually(async () => sys.slack.roots(id), (r) => r.length === 2, 'the emea thread');
    expect(roots.map((r) => r.channel)).toEqual(['C0AMER', 'C0EMEA']);
    expect(roots[1].text).toContain(`https://example.slack.com/archives/C0AMER/p${oldRoot[0].ts.replace('.', '')}`);
    // Later posts of the case go on in the new thread.
    await sys.call('POST', `/escalations/${id}/internal-escalations`, { key: 'agent', body: { trigger: 'product_gap', note: 'Needs a feature' } });
    await eventually(async () => sys.slack.messages.filter((m) => m.thread_ts === roots[1].ts), (r) => r.length === 1, 'a reply in the emea thread');

    // The team it left reads it (and lists it), cannot act; the team it joined is filtered by team=.
    expect((await sys.call('GET', `/escalations/${id}`, { key: scoped('amer', 'viewer') })).status).toBe(200);
    const acted = await sys.call('POST', `/escalations/${id}/notes`, { key: scoped('amer', 'agent'), body: { text: 'still ours?' } });
    expect(acted.status).toBe(403);
    const listed = await eventually(
      async () => ((await sys.call('GET', '/escalations?limit=100', { key: scoped('amer', 'viewer') })).body.items as { id: string; team: string }[]).find((i) => i.id === id),
      (x) => x?.team === 'emea',
      'the moved case in the old team’s list',
    );
    expect(listed?.team).toBe('emea');
    expect((await sys.call('GET', `/escalations/${id}`, { key: scoped('apac', 'viewer') })).status).toBe(404);
    // Transferring to an unknown team, or to the team it is in: refused, nothing changes.
    const unknown = await sys.call('POST', `/escalations/${id}/transfer`, { key: 'agent', body: { team: 'mars', reason: 'r' } });
    expect([unknown.status, unknown.body.error.details]).toEqual([400, [{ field: 'team', message: 'no such team (known: amer, emea, apac)' }]]);
    const same = await sys.call('POST', `/escalations/${id}/transfer`, { key: 'agent', body: { team: 'emea', reason: 'r' } });
    expect(same.status).toBe(409);
  });
});
