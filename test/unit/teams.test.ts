import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadEscalationConfig, parseEnv } from '../../config/settings';
import { signInFrom } from '../../api/server';
import { DEFAULT_TEAM } from '../../config/teams';
import { findKey, parseApiKeys, type Principal } from '../../api/auth';
import { canRead, readableTeams, requireAct, requireRead, roleIn, teamScope } from '../../api/access';
import { HttpError } from '../../api/errors';
import { DEFAULT_POLICY, act, caseView, messageCase, openCase, visibilityOf, RULES_VERSION, type CaseState } from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'teams-'));
const file = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
};
const lee = { name: 'Lee', email: 'lee@x.example' };

describe('teams in the config', () => {
  test('no teams: one team, default, made of the top-level settings; every open goes to it', () => {
    const c = loadEscalationConfig(file('none.json', { roster: { supportLead: lee }, slack: { channel: 'C1' }, policy: { acknowledgeWithin: '30m' } }));
    expect(c.teams.ids).toEqual([DEFAULT_TEAM]);
    expect(c.teams.openDefault).toBe(DEFAULT_TEAM);
    const t = c.teams.get(undefined);
    expect([t.id, t.roster, t.slackChannel, t.policy]).toEqual([DEFAULT_TEAM, { supportLead: lee }, 'C1', { ...DEFAULT_POLICY, acknowledgeWithin: '30m' }]);
  });

  test("a team's roster, channel and windows fall back role by role and window by window on the top-level ones", () => {
    const c = loadEscalationConfig(
      file('two.json', {
        roster: { supportLead: lee, engineering: { name: 'Eng', email: 'eng@x.example' } },
        slack: { channel: 'C1' },
        policy: { respondWithin: { high: '3h' }, calendar: 'us' },
        calendars: { us: { timezone: 'America/New_York', hours: { mon: ['09:00-17:00'] } }, eu: { timezone: 'Europe/Berlin', hours: { mon: ['09:00-17:00'] } } },
        teams: {
          amer: { name: 'Americas', members: { 'Ana@X.example': 'agent' } },
          emea: { name: 'EMEA', roster: { supportLead: { name: 'Eva', email: 'eva@x.example' } }, slack: { channel: 'C2' }, policy: { respondWithin: { critical: '30m' } }, calendar: 'eu' },
        },
        defaultTeam: 'amer',
      }),
    );
    expect(c.teams.ids).toEqual(['amer', 'emea']);
    expect(c.teams.openDefault).toBe('amer');
    const [amer, emea] = [c.teams.get('amer'), c.teams.get('emea')];
    expect([amer.roster.supportLead, amer.slackChannel, amer.calendar, amer.policy]).toEqual([lee, 'C1', 'us', { ...DEFAULT_POLICY, respondWithin: { ...DEFAULT_POLICY.respondWithin, high: '3h' }, calendar: 'us' }]);
    expect([emea.roster.supportLead?.name, emea.roster.engineering?.name, emea.slackChannel, emea.calendar]).toEqual(['Eva', 'Eng', 'C2', 'eu']);
    expect(emea.policy.respondWithin).toEqual({ ...DEFAULT_POLICY.respondWithin, high: '3h', critical: '30m' });
    expect(emea.policy.calendar).toBe('eu');
    // Members by email, whatever its case.
    expect(c.teams.rolesOf('ana@x.example')).toEqual({ amer: 'agent' });
    // A case of before teams is default's: the top-level settings, when no team of that id is configured.
    expect([c.teams.has(DEFAULT_TEAM), c.teams.get(undefined).roster.supportLead, c.teams.get(undefined).slackChannel]).toEqual([false, lee, 'C1']);
  });

  test('several teams and no defaultTeam: an open must name one', () => {
    const c = loadEscalationConfig(file('nodefault.json', { teams: { a: { name: 'A' }, b: { name: 'B' } } }));
    expect(c.teams.openDefault).toBeUndefined();
    expect(loadEscalationConfig(file('one.json', { teams: { a: { name: 'A' } } })).teams.openDefault).toBe('a');
  });

  test('errors name the team, the field and the reason', () => {
    const bad = file('bad.json', {
      teams: { amer: { name: 'A', policy: { respondWithin: { high: 'soon' } }, calendar: 'mars' }, 'Bad Id': { name: 'B' }, c: { name: 'C', members: { 'a@x.example': 'owner' } } },
      defaultTeam: 'zz',
    });
    let message = '';
    try {
      loadEscalationConfig(bad);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/teams\.Bad Id.*a team id is 1 to 40 of a-z, 0-9 and -/);
    expect(message).toMatch(/teams\.c\.members\.a@x\.example/);
    const ok = file('bad2.json', { calendars: { us: { timezone: 'America/New_York', hours: { mon: ['09:00-17:00'] } } }, teams: { amer: { name: 'A', policy: { respondWithin: { high: 'soon' } }, calendar: 'mars' } }, defaultTeam: 'zz' });
    expect(() => loadEscalationConfig(ok)).toThrow(/teams\.amer\.policy\.respondWithin\.high: expected a positive duration/);
    expect(() => loadEscalationConfig(ok)).toThrow(/teams\.amer\.calendar: no calendar "mars" in calendars \(known: us\)/);
    expect(() => loadEscalationConfig(ok)).toThrow(/defaultTeam: no team "zz" in teams \(known: amer\)/);
  });

  test("the README's example config loads: two teams with their own calendars and windows", () => {
    const c = loadEscalationConfig(join(__dirname, '../../config/examples/escalations.yaml'));
    expect(c.teams.ids.length).toBeGreaterThanOrEqual(2);
    const [a, b] = c.teams.ids.map((id) => c.teams.get(id));
    expect(a.calendar).not.toBe(b.calendar);
    expect(a.policy).not.toEqual(b.policy);
    expect(readFileSync(join(__dirname, '../../README.md'), 'utf8')).toContain('config/examples/escalations.yaml');
  });
});

describe('sign-in settings', () => {
  test('OIDC_ISSUER is https, or http on a loopback host only; sessions last SESSION_TTL, idle SESSION_IDLE_TTL', () => {
    expect(parseEnv({ OIDC_ISSUER: 'https://login.example.com/realms/cs' }).OIDC_ISSUER).toBe('https://login.example.com/realms/cs');
    expect(parseEnv({ OIDC_ISSUER: 'http://127.0.0.1:8080' }).OIDC_ISSUER).toBe('http://127.0.0.1:8080');
    expect(() => parseEnv({ OIDC_ISSUER: 'http://idp.example.com' })).toThrow(/OIDC_ISSUER: must be https \(http only on a loopback host\)/);
    expect(() => parseEnv({ SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET: must be at least 32 characters/);
    const env = parseEnv({});
    expect([env.OIDC_SCOPES, env.SESSION_TTL, env.SESSION_IDLE_TTL]).toEqual(['openid email profile', '12h', '2h']);
  });
  test('the issuer needs the client id; auth.groups name known teams (or *)', () => {
    const config = loadEscalationConfig(undefined);
    expect(() => signInFrom(parseEnv({ OIDC_ISSUER: 'https://idp.example.com' }), config, { linkSecret: 'x'.repeat(32), sessionSecret: 'y'.repeat(32) })).toThrow(/set OIDC_CLIENT_ID/);
    const ok = signInFrom(parseEnv({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'esc' }), config, { linkSecret: 'x'.repeat(32), sessionSecret: 'y'.repeat(32) });
    expect([ok.clientId, ok.ttlMs, ok.idleMs, ok.auth.groupsClaim]).toEqual(['esc', 12 * 3_600_000, 2 * 3_600_000, 'groups']);
    expect(() => loadEscalationConfig(file('auth.json', { teams: { amer: { name: 'A' } }, auth: { groups: { 'cs-emea': { team: 'emea', role: 'agent' } } } }))).toThrow(/auth\.groups\.cs-emea\.team: no team "emea" \(known: amer, or \* for every team\)/);
    expect(loadEscalationConfig(file('auth-ok.json', { teams: { amer: { name: 'A' } }, auth: { groups: { all: { team: '*', role: 'viewer' } } } })).auth.groups.all).toEqual({ team: '*', role: 'viewer' });
  });
});

describe('API keys scoped to teams', () => {
  const known = ['amer', 'emea', DEFAULT_TEAM];
  test('name:role:key holds the role in every team; name:role:key:a|b in those only', () => {
    const keys = parseApiKeys('all:agent:aaaaaaaaaaaaaaaa, two:viewer:bbbbbbbbbbbbbbbb:amer|emea, colon:agent:cccccccccccccccc:not-a-team', known);
    expect(keys.map((k) => [k.name, k.role, k.teams])).toEqual([
      ['all', 'agent', undefined],
      ['two', 'viewer', ['amer', 'emea']],
      // A last part that is not all teams belongs to the key (keys may hold colons; a mistyped team widens nothing).
      ['colon', 'agent', undefined],
    ]);
    expect(findKey(keys, 'bbbbbbbbbbbbbbbb')?.name).toBe('two');
    expect(findKey(keys, 'cccccccccccccccc:not-a-team')?.name).toBe('colon');
    expect(findKey(keys, 'cccccccccccccccc')).toBeUndefined();
    expect(() => parseApiKeys('mail:inbound:dddddddddddddddd:amer', known)).toThrow(/inbound key .* takes no teams/);
  });
});

describe('access: one place, deny by default', () => {
  const scoped = (role: 'viewer' | 'agent' | 'admin', ...teams: string[]): Principal => ({ name: 'k', role, teams: Object.fromEntries(teams.map((t) => [t, role])) });
  const kase = { team: 'emea', formerTeams: ['amer'] };
  test('reading needs viewer in the team or a team it left; acting needs the role in its team', () => {
    expect(canRead(scoped('viewer', 'emea'), kase)).toBe(true);
    expect(canRead(scoped('viewer', 'amer'), kase)).toBe(true);
    expect(canRead(scoped('admin', 'apac'), kase)).toBe(false);
    expect(canRead({ name: 'm', role: 'inbound' }, kase)).toBe(false);
    expect(canRead({ name: 'c', role: 'customer' }, kase)).toBe(false);
    expect(canRead({ name: 'all', role: 'viewer' }, kase)).toBe(true);
    const status = (f: () => void) => {
      try {
        f();
        return 200;
      } catch (err) {
        return (err as HttpError).status;
      }
    };
    expect(status(() => requireAct(scoped('agent', 'emea'), 'x', kase, 'agent'))).toBe(200);
    expect(status(() => requireAct(scoped('agent', 'amer'), 'x', kase, 'agent'))).toBe(403);
    expect(status(() => requireAct(scoped('admin', 'apac'), 'x', kase, 'agent'))).toBe(404);
    expect(status(() => requireAct(scoped('viewer', 'emea'), 'x', kase, 'agent'))).toBe(403);
    expect(status(() => requireAct(scoped('agent', 'emea'), 'x', kase, 'admin'))).toBe(403);
    expect(status(() => requireRead(scoped('agent', 'emea'), 'x', undefined))).toBe(404);
    expect(roleIn({ name: 'all', role: 'admin' }, 'anything')).toBe('admin');
  });
  test('lists cover the teams read; a team= outside them is 403', () => {
    expect(readableTeams({ name: 'all', role: 'viewer' })).toBe('*');
    expect(readableTeams(scoped('agent', 'amer', 'emea'))).toEqual(['amer', 'emea']);
    expect(readableTeams({ name: 'm', role: 'inbound' })).toEqual([]);
    expect(teamScope(scoped('viewer', 'amer'), 'amer')).toEqual(['amer']);
    expect(() => teamScope(scoped('viewer', 'amer'), 'emea')).toThrow(/no role in team emea/);
  });
});

describe('a case and its team', () => {
  const open = (team?: string) => openCase({ id: 'c1', input: caseInput(), policy: { ...DEFAULT_POLICY }, now: Date.parse('2026-12-01T10:00:00Z'), rulesVersion: RULES_VERSION, ...(team ? { team } : {}) }).state;

  test('a case of before teams is default’s, and publishes no team attribute (its visibility is what it always was)', () => {
    const s = open();
    expect([caseView(s).team, caseView(s).formerTeams, messageCase(s).team]).toEqual([DEFAULT_TEAM, [], DEFAULT_TEAM]);
    expect([visibilityOf(s).team, visibilityOf(s).readers]).toEqual([undefined, undefined]);
    expect(open('amer').team).toBe('amer');
    expect([visibilityOf(open('amer')).team, visibilityOf(open('amer')).readers]).toEqual(['amer', ['amer']]);
  });

  test('a transfer keeps every deadline, remembers the team left and its Slack thread, tells the new team', () => {
    let s: CaseState = { ...open('amer'), slackThreadTs: '100.1' };
    const before = caseView(s, Date.parse('2026-12-01T10:10:00Z')).deadlines;
    const t = act(s, { type: 'transfer', team: 'emea', reason: 'moved', by: 'ana' }, Date.parse('2026-12-01T10:10:00Z'));
    s = t.state;
    expect(caseView(s, Date.parse('2026-12-01T10:10:00Z')).deadlines).toEqual(before);
    expect([s.team, s.formerTeams, s.earlierThreads, s.slackThreadTs]).toEqual(['emea', ['amer'], [{ team: 'amer', ts: '100.1' }], null]);
    expect(visibilityOf(s).readers).toEqual(['emea', 'amer']);
    expect(t.effects.map((e) => [e.kind, e.channel, e.to])).toEqual([
      ['transferred', 'email', ['csm', 'supportLead', 'engineering']],
      ['transferred', 'slack', ['csm', 'supportLead', 'engineering']],
    ]);
    expect(t.effects[0].data).toEqual({ from: 'amer', to: 'emea', reason: 'moved', by: 'ana', earlierThread: { team: 'amer', ts: '100.1' } });
    expect(s.timeline.at(-1)).toMatchObject({ type: 'transferred', actor: 'ana', summary: 'Transferred from amer to emea: moved' });
    // Back again: the team it returns to is no longer a former team; the one it leaves is.
    const back = act(s, { type: 'transfer', team: 'amer', reason: 'back' }, Date.parse('2026-12-01T10:20:00Z')).state;
    expect([back.team, back.formerTeams]).toEqual(['amer', ['emea']]);
    // To the team it is in: refused.
    expect(() => act(back, { type: 'transfer', team: 'amer', reason: 'again' }, Date.parse('2026-12-01T10:30:00Z'))).toThrow(/already in team amer/);
  });
});
