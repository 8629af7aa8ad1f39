/**
 * People sign in with a real OpenID provider (oidc-provider in its own process, authorization code with
 * PKCE): their groups give roles per team, their session is a sealed cookie any API process accepts,
 * changing requests must come from the service's own pages, and what they do names them.
 */
import { createHash } from 'node:crypto';
import { EncryptJWT } from 'jose';
import fc from 'fast-check';
import { resolveTeams } from '../../config/teams';
import { DEFAULT_ROSTER } from '../../config/settings';
import { DEFAULT_POLICY } from '../../playbook';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { Sessions, safeReturnTo, rolesOf } from '../../api/sessions';
import { startOidcProvider, type TestPerson } from '../helpers/oidc';
import { freePort, spawnProgram, writeConfig, type Proc } from '../helpers/processes';
import { KEYS, bodyOf, eventually, openBody, startSystem, type System } from '../helpers/system';

const PEOPLE: Record<string, TestPerson> = {
  ana: { email: 'ana@vendor.example', name: 'Ana Ruiz', groups: ['cs-amer', 'everyone'] },
  eva: { email: 'eva@vendor.example', name: 'Eva Berg', groups: ['cs-emea'] },
  newbie: { email: 'newbie@vendor.example', name: 'New Person', groups: ['everyone'] },
};
const AUTH = { groupsClaim: 'groups', emailClaim: 'email', nameClaim: 'name', groups: { 'cs-amer': { team: 'amer', role: 'agent' as const }, 'cs-emea': { team: 'emea', role: 'agent' as const } } };
const SECRET = 'sign-in-test-session-secret-0123456789abcdef';
const RAW_TEAMS = {
  amer: { name: 'Americas', roster: {}, slack: { channel: 'C0AMER' }, policy: {}, members: {} },
  emea: { name: 'EMEA', roster: {}, slack: { channel: 'C0EMEA' }, policy: {}, members: {} },
};
const { teams } = resolveTeams(RAW_TEAMS, 'amer', { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } }, []);

let provider: Awaited<ReturnType<typeof startOidcProvider>>;
const SIGN_IN = () => ({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, scopes: 'openid email profile groups', secret: SECRET, ttlMs: 12 * 3_600_000, idleMs: 2 * 3_600_000, auth: AUTH });
/** The API's log lines: no authorization code, state or token may be in them. */
const LOG: string[] = [];
let sys: System;
let second: { proc: Proc; base: string };
let amerCase: string;
let emeaCase: string;

beforeAll(async () => {
  const [apiPort, secondPort] = [await freePort(), await freePort()];
  provider = await startOidcProvider({ redirectUris: [`http://127.0.0.1:${apiPort}/auth/callback`, `http://127.0.0.1:${secondPort}/auth/callback`], people: PEOPLE });
  sys = await startSystem({ port: apiPort, teams, signIn: SIGN_IN(), logLines: LOG });
  // A second API process (npm run api's program), sharing nothing with the first but the secret.
  const config = writeConfig({ teams: RAW_TEAMS, defaultTeam: 'amer', auth: AUTH });
  second = {
    base: `http://127.0.0.1:${secondPort}`,
    proc: spawnProgram('api/main.ts', {
      TEMPORAL_ADDRESS: sys.env.connection.options.address ?? '',
      TEMPORAL_NAMESPACE: sys.env.namespace ?? 'default',
      TEMPORAL_TASK_QUEUE: sys.taskQueue,
      ESCALATION_CONFIG: config,
      PORT: String(secondPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${secondPort}`,
      API_KEYS: `ops:admin:${KEYS.admin}`,
      LINK_SECRET: 'sign-in-test-link-secret-0123456789',
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
      SESSION_SECRET: SECRET,
      DATA_DIR: '/tmp',
    }),
  };
  await second.proc.waitFor(/API on http/, 90_000);
  amerCase = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'amer', customer: { ...openBody().customer, id: 'signin-amer' } }) })).body.id;
  emeaCase = (await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'emea', customer: { ...openBody().customer, id: 'signin-emea' } }) })).body.id;
}, 180_000);
afterAll(async () => {
  await second?.proc.kill('SIGTERM');
  await sys?.stop();
  await provider?.stop();
});

/** A browser's cookie jar, by origin: enough for the provider's and the service's cookies here. */
class Jar {
  private readonly cookies = new Map<string, Map<string, string>>();
  header(url: string): string {
    return [...(this.cookies.get(new URL(url).origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(url: string, res: Response): void {
    const jar = this.cookies.get(new URL(url).origin) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i).trim(), pair.slice(i + 1)];
      if (/max-age=0/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(new URL(url).origin, jar);
  }
  get(origin: string, name: string): string | undefined {
    return this.cookies.get(origin)?.get(name);
  }
  set(origin: string, name: string, value: string): void {
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(origin, jar);
  }
}

/** Follows redirects and submits the provider's login and consent forms, as a browser would. */
async function signIn(base: string, login: string, jar = new Jar()): Promise<{ jar: Jar; landed: string; status: number; page: string }> {
  let url = `${base}/auth/login?returnTo=${encodeURIComponent('/board/cases/x')}`;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, { method, redirect: 'manual', headers: { cookie: jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, body });
    jar.take(url, res);
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      [method, body] = ['GET', undefined];
      if (url.startsWith(base) && !url.includes('/auth/')) return { jar, landed: url.slice(base.length), status: res.status, page: '' };
      continue;
    }
    const page = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(page);
    if (!form) return { jar, landed: url, status: res.status, page };
    const fields = new URLSearchParams();
    for (const [tag] of form[2].matchAll(/<input[^>]*>/gi)) {
      const name = /name="([^"]+)"/.exec(tag)?.[1];
      if (name) fields.set(name, /value="([^"]*)"/.exec(tag)?.[1] ?? '');
    }
    if (fields.has('login')) {
      fields.set('login', login);
      fields.set('password', 'any');
    }
    [url, method, body] = [new URL(form[1].replace(/&amp;/g, '&'), url).href, 'POST', fields.toString()];
  }
  throw new Error('too many hops');
}

const as = (jar: Jar, base: string) => async (method: string, path: string, o: { body?: unknown; origin?: string | null; csrf?: string | null } = {}) => {
  const me = o.csrf === undefined && method !== 'GET' ? ((await (await fetch(`${base}/auth/me`, { headers: { cookie: jar.header(base) } })).json()) as { csrfToken: string }).csrfToken : o.csrf;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      cookie: jar.header(base),
      ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(o.origin !== null && method !== 'GET' ? { origin: o.origin ?? base } : {}),
      ...(me ? { 'x-csrf-token': me } : {}),
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  jar.take(base, res);
  return { status: res.status, body: await bodyOf(res) };
};

describe('signing in with the identity provider', () => {
  test('a person signs in (login, consent, code with PKCE), lands where they were going, and is who the provider says with the roles their groups give', async () => {
    const { jar, landed } = await signIn(sys.base, 'ana');
    expect(landed).toBe('/board/cases/x');
    const me = await as(jar, sys.base)('GET', '/auth/me');
    expect(me.status).toBe(200);
    expect({ ...me.body, csrfToken: typeof me.body.csrfToken }).toEqual({ email: 'ana@vendor.example', name: 'Ana Ruiz', roles: { amer: 'agent' }, csrfToken: 'string' });
    // The cookies: HttpOnly, SameSite=Lax, their lifetime bounded; Secure where the service is served over https.
    const login = await fetch(`${sys.base}/auth/login`, { redirect: 'manual' });
    expect(login.headers.getSetCookie()[0]).toMatch(/; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/);
    const https = express().use(new Sessions({ ...SIGN_IN(), publicBaseUrl: 'https://esc.example.com', teams: () => teams, logger: pino({ level: 'silent' }) }).routes());
    const server = https.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const viaHttps = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/login`, { redirect: 'manual' });
    server.close();
    expect(viaHttps.headers.getSetCookie()[0]).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    expect(new URL(viaHttps.headers.get('location')!).searchParams.get('redirect_uri')).toBe('https://esc.example.com/auth/callback');
  });

  test('the session sees its teams’ cases only; acting names the person; another team’s case is a 404', async () => {
    const { jar } = await signIn(sys.base, 'ana');
    const call = as(jar, sys.base);
    const list = await eventually(() => call('GET', '/escalations?limit=100'), (r) => r.status === 200 && r.body.items.some((i: { id: string }) => i.id === amerCase), 'the amer case listed');
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(emeaCase);
    expect((await call('GET', `/escalations/${emeaCase}`)).status).toBe(404);
    const acted = await call('POST', `/escalations/${amerCase}/notes`, { body: { text: 'Looked at the logs', by: 'someone else' } });
    expect(acted.status).toBe(200);
    const view = await sys.call('GET', `/escalations/${amerCase}`);
    expect(view.body.notes.at(-1)).toMatchObject({ text: 'Looked at the logs', by: 'Ana Ruiz <ana@vendor.example>' });
    // On the timeline the person is { name, email }.
    expect(view.body.timeline.filter((e: { type: string }) => e.type === 'note').at(-1).actor).toEqual({ name: 'Ana Ruiz', email: 'ana@vendor.example' });
  });

  test('signed in through one API process, acting through the other works (no session held in a process)', async () => {
    const { jar } = await signIn(sys.base, 'ana');
    // The same cookie presented to the second process.
    jar.set(second.base, 'esc_session', jar.get(sys.base, 'esc_session')!);
    const call = as(jar, second.base);
    expect((await call('GET', '/auth/me')).body.email).toBe('ana@vendor.example');
    const acted = await call('POST', `/escalations/${amerCase}/notes`, { body: { text: 'From the other process' } });
    expect(acted.status).toBe(200);
    expect((await call('GET', `/escalations/${emeaCase}`)).status).toBe(404);
  });

  test('a change without the session’s token, or from another site, is refused (403 csrf) and changes nothing; a Bearer key is unaffected', async () => {
    const { jar } = await signIn(sys.base, 'ana');
    const call = as(jar, sys.base);
    const before = (await sys.call('GET', `/escalations/${amerCase}`)).body.notes.length;
    const noToken = await call('POST', `/escalations/${amerCase}/notes`, { body: { text: 'x' }, csrf: null });
    const crossSite = await call('POST', `/escalations/${amerCase}/notes`, { body: { text: 'x' }, origin: 'https://evil.example' });
    const noOrigin = await call('POST', `/escalations/${amerCase}/notes`, { body: { text: 'x' }, origin: null });
    expect([noToken.status, crossSite.status, noOrigin.status]).toEqual([403, 403, 403]);
    expect(crossSite.body.error.code).toBe('csrf');
    expect((await sys.call('GET', `/escalations/${amerCase}`)).body.notes.length).toBe(before);
    expect((await sys.call('POST', `/escalations/${amerCase}/notes`, { key: 'agent', body: { text: 'by key' } })).status).toBe(200);
  });

  test('a forged, tampered or expired cookie is no session (401)', async () => {
    const { jar } = await signIn(sys.base, 'ana');
    const real = jar.get(sys.base, 'esc_session')!;
    const key = (secret: string) => createHash('sha256').update(`session:${secret}`).digest();
    const seal = (secret: string, exp: number, began = Date.now()) =>
      new EncryptJWT({ email: 'mallory@evil.example', name: 'Mallory', roles: { amer: 'admin', emea: 'admin' }, csrf: 'x', began, seen: began }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime(exp).encrypt(key(secret));
    const me = (cookie: string) => fetch(`${sys.base}/auth/me`, { headers: { cookie: `esc_session=${cookie}` } }).then((r) => r.status);
    expect(await me(real)).toBe(200);
    expect(await me(`${real.slice(0, -4)}AAAA`)).toBe(401); // tampered
    expect(await me(await seal('another-secret-another-secret-000000', Math.floor(Date.now() / 1000) + 3600))).toBe(401); // forged
    expect(await me(await seal(SECRET, Math.floor(Date.now() / 1000) - 10))).toBe(401); // expired
    expect(await me(await seal(SECRET, Math.floor(Date.now() / 1000) + 3600, Date.now() - 13 * 3_600_000))).toBe(401); // past SESSION_TTL
    // Signed out: the cookie is cleared.
    const out = await as(jar, sys.base)('POST', '/auth/logout');
    expect(out.status).toBe(204);
    expect(jar.get(sys.base, 'esc_session')).toBeUndefined();
  });

  test('a person whose groups map to no team is signed in and sees nothing', async () => {
    const { jar } = await signIn(sys.base, 'newbie');
    const call = as(jar, sys.base);
    expect((await call('GET', '/auth/me')).body.roles).toEqual({});
    expect((await call('GET', '/escalations')).body.items).toEqual([]);
    expect((await call('GET', `/escalations/${amerCase}`)).status).toBe(404);
  });

  test('the provider’s refusals end on a page that says what happened and offers to sign in again', async () => {
    const denied = await fetch(`${sys.base}/auth/callback?error=access_denied&state=x`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toMatch(/did not allow[\s\S]*Sign in again/);
    const noLogin = await fetch(`${sys.base}/auth/callback?code=abc&state=def`);
    expect(noLogin.status).toBe(400);
    expect(await noLogin.text()).toContain('This sign-in started too long ago');
    // A code that is not the provider's: checked and refused, nothing logged that holds it.
    const jar = new Jar();
    const start = await fetch(`${sys.base}/auth/login`, { redirect: 'manual' });
    jar.take(sys.base, start);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const bad = await fetch(`${sys.base}/auth/callback?code=not-a-real-code&state=${state}`, { headers: { cookie: jar.header(`${sys.base}/auth/callback`) } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/could not be checked[\s\S]*Sign in again/);
    const log = LOG.join('\n');
    expect(log).toContain('/auth/callback?code=[redacted]&state=[redacted]');
    expect(log).not.toContain('not-a-real-code');
    expect(log).not.toContain(state);
    expect(log).not.toMatch(/code=(?!\[redacted\])/);
  });
});

describe('returnTo and the auth routes under generated input', () => {
  test('returnTo is always one of this service’s own paths', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('//evil.example', '/\\evil.example', '/board', 'https://evil.example/board', '/%2F%2Fevil', ' /board', '\\\\evil')), (v) => {
        const r = safeReturnTo(v);
        expect(r.startsWith('/')).toBe(true);
        expect(/^\/[/\\]/.test(r)).toBe(false);
        expect(new URL(r, 'https://esc.example').origin).toBe('https://esc.example');
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });

  test('400 generated requests to /auth/* get no 5xx and never send anyone elsewhere than the provider or this service', async () => {
    const paths = fc.constantFrom('/auth/login', '/auth/callback', '/auth/me', '/auth/logout');
    const query = fc.array(fc.tuple(fc.constantFrom('returnTo', 'code', 'state', 'error', 'iss', 'x'), fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('//evil.example', 'https://evil.example', '/board', 'access_denied'))), { maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(paths, query, fc.constantFrom('GET', 'POST'), fc.option(fc.string({ maxLength: 60 })), async (path, q, method, cookie) => {
        const qs = q.length ? `?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
        const res = await fetch(`${sys.base}${path}${qs}`, { method, redirect: 'manual', headers: cookie ? { cookie: `esc_session=${cookie}` } : {} });
        await res.arrayBuffer();
        if (res.status >= 500) throw new Error(`${res.status} for ${method} ${path}${qs}`);
        const location = res.headers.get('location');
        if (location) {
          const origin = new URL(location, sys.base).origin;
          if (origin !== new URL(sys.base).origin && origin !== new URL(provider.issuer).origin) throw new Error(`${method} ${path}${qs} redirected to ${location}`);
        }
      }),
      { numRuns: 400, seed: 11 },
    );
  }, 120_000);

  test('groups to roles: the highest a group gives, `*` for every team', () => {
    const auth = { ...AUTH, groups: { ...AUTH.groups, leads: { team: '*', role: 'viewer' as const }, 'amer-admins': { team: 'amer', role: 'admin' as const } } };
    expect(rolesOf(['cs-amer', 'leads'], auth, teams)).toEqual({ amer: 'agent', emea: 'viewer', default: 'viewer' });
    expect(rolesOf(['amer-admins', 'cs-amer'], auth, teams)).toEqual({ amer: 'admin' });
    expect(rolesOf(['nobody'], auth, teams)).toEqual({});
    // A team's members (by email) hold their role there too.
    const withMembers = resolveTeams({ ...RAW_TEAMS, emea: { ...RAW_TEAMS.emea, members: { 'eva@vendor.example': 'admin' } } }, 'amer', { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } }, []).teams;
    expect(rolesOf(['cs-emea', 'cs-amer'], AUTH, withMembers, 'Eva@Vendor.example')).toEqual({ emea: 'admin', amer: 'agent' });
  });
});
