/**
 * People sign in with their company's identity provider (OpenID Connect, authorization code with PKCE,
 * openid-client), and a sealed cookie carries the session to every API process: no session is held in
 * a process's memory. Their groups map to roles per team at each sign-in (config `auth.groups`). API keys
 * stay for machines. A changing request carried by the cookie must come from this service's own pages:
 * its Origin is this service's and it carries the session's CSRF token (a synchronizer token, OWASP's
 * first defence; the board reads it from /auth/me).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import * as cookie from 'cookie';
import * as oidc from 'openid-client';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { AuthConfig } from '../config/settings';
import type { Logger } from '../config/logger';
import { DEFAULT_TEAM, type Teams } from '../config/teams';
import { RANK, type ApiRole } from './auth';
import { HttpError, wrap } from './errors';
import { linkDonePage } from './link-pages';

export interface SessionOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string;
  /** Seals the cookies: the same on every API process. */
  secret: string;
  ttlMs: number;
  idleMs: number;
  /** PUBLIC_BASE_URL: the callback's address, the origin changing requests must come from, and https → Secure cookies. */
  publicBaseUrl: string;
  auth: AuthConfig;
  teams: () => Teams;
  logger: Logger;
}

/** A signed-in person, as the cookie carries them. */
export interface Person {
  email: string;
  name: string;
  roles: Record<string, Exclude<ApiRole, 'inbound'>>;
}

interface SessionClaims extends Person {
  csrf: string;
  /** When the session began and was last used (epoch ms). */
  began: number;
  seen: number;
}

export const SESSION_COOKIE = 'esc_session';
const LOGIN_COOKIE = 'esc_login';
const LOGIN_WINDOW_MS = 10 * 60_000;
/** The session cookie is written again (its idle clock restarted) at most this often. */
const TOUCH_EVERY_MS = 60_000;

declare module 'express-serve-static-core' {
  interface Request {
    /** Set when the request is authenticated by a session cookie (never with a Bearer key). */
    person?: Person & { csrf: string };
  }
}

/**
 * The roles a person holds, per team: the highest any of their groups gives (`*` gives it in every team)
 * or their email's membership of a team (the config's `members`) gives.
 */
export function rolesOf(groups: readonly string[], auth: AuthConfig, teams: Teams, email?: string): Person['roles'] {
  const roles: Person['roles'] = {};
  for (const [team, role] of Object.entries(email ? teams.rolesOf(email) : {})) roles[team] = role;
  const all = [...new Set([...teams.ids, DEFAULT_TEAM])];
  for (const g of groups) {
    const m = auth.groups[g];
    if (!m) continue;
    for (const team of m.team === '*' ? all : [m.team]) if (!roles[team] || RANK[m.role] > RANK[roles[team]]) roles[team] = m.role;
  }
  return roles;
}

/** Only this service's own paths: `/…` but not `//host` or `/\host` (an open redirect otherwise). */
export function safeReturnTo(value: unknown): string {
  const v = typeof value === 'string' ? value : '';
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(v) ? v : '/board';
}

export class Sessions {
  private readonly key: Uint8Array;
  private readonly secure: boolean;
  private readonly origin: string;
  private config: Promise<oidc.Configuration> | undefined;

  constructor(private readonly o: SessionOptions) {
    this.key = createHash('sha256').update(`session:${o.secret}`).digest();
    this.secure = o.publicBaseUrl.startsWith('https:');
    this.origin = new URL(o.publicBaseUrl).origin;
  }

  /** The provider's configuration (discovery), fetched at the first sign-in and again after a failure. */
  private provider(): Promise<oidc.Configuration> {
    this.config ??= oidc
      .discovery(new URL(this.o.issuer), this.o.clientId, this.o.clientSecret, undefined, this.o.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((err: unknown) => {
        this.config = undefined;
        throw err;
      });
    return this.config;
  }

  private get redirectUri(): string {
    return `${this.o.publicBaseUrl.replace(/\/$/, '')}/auth/callback`;
  }

  private async seal(claims: object, ttlMs: number): Promise<string> {
    return new EncryptJWT({ ...claims }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt().setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000)).encrypt(this.key);
  }

  private async unseal<T>(token: string | undefined): Promise<T | undefined> {
    if (!token) return undefined;
    try {
      return (await jwtDecrypt(token, this.key, { clockTolerance: 0 })).payload as T;
    } catch {
      return undefined; // forged, tampered, sealed with another secret, or expired
    }
  }

  private setCookie(res: Response, name: string, value: string, maxAgeMs: number, path = '/'): void {
    res.append('Set-Cookie', cookie.serialize(name, value, { httpOnly: true, secure: this.secure, sameSite: 'lax', path, maxAge: Math.floor(maxAgeMs / 1000) }));
  }

  private clearCookie(res: Response, name: string, path = '/'): void {
    res.append('Set-Cookie', cookie.serialize(name, '', { httpOnly: true, secure: this.secure, sameSite: 'lax', path, maxAge: 0 }));
  }

  /**
   * Reads the session cookie of a request without a Bearer key: sets `req.person`, and refuses a changing
   * request that does not come from this service's pages (403 csrf). An expired, idle or forged cookie is
   * no session (the request is anonymous).
   */
  middleware(): RequestHandler {
    return (req, res, next) => void this.read(req, res).then(() => next(), next);
  }

  private async read(req: Request, res: Response): Promise<void> {
    if (req.get('authorization')) return;
    const raw = cookie.parse(req.get('cookie') ?? '')[SESSION_COOKIE];
    const s = await this.unseal<SessionClaims>(raw);
    const now = Date.now();
    if (!s || now - s.seen > this.o.idleMs || now - s.began > this.o.ttlMs) return;
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) this.checkCsrf(req, s.csrf);
    req.person = { email: s.email, name: s.name, roles: s.roles, csrf: s.csrf };
    const left = this.o.ttlMs - (now - s.began);
    if (now - s.seen > TOUCH_EVERY_MS) this.setCookie(res, SESSION_COOKIE, await this.seal({ ...s, seen: now }, left), left);
  }

  private checkCsrf(req: Request, token: string): void {
    const origin = req.get('origin') ?? (req.get('referer') ? safeOrigin(req.get('referer')!) : undefined);
    const sent = req.get('x-csrf-token') ?? '';
    const same = sent.length === token.length && timingSafeEqual(Buffer.from(sent), Buffer.from(token));
    if (origin !== this.origin || !same) {
      throw new HttpError(403, 'csrf', 'A change made with a session must come from this service’s own pages (Origin and X-CSRF-Token)');
    }
  }

  /** GET /auth/login, GET /auth/callback, POST /auth/logout, GET /auth/me. */
  routes(): express.Router {
    const r = express.Router();
    r.get('/auth/login', wrap(async (req, res) => {
      const config = await this.provider().catch((err: unknown) => {
        this.o.logger.warn({ err: (err as Error).message, issuer: this.o.issuer }, 'the identity provider cannot be reached');
        throw new HttpError(503, 'provider_unavailable', 'The sign-in provider cannot be reached; try again in a moment', undefined, { 'Retry-After': '5' });
      });
      const verifier = oidc.randomPKCECodeVerifier();
      const login = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce(), returnTo: safeReturnTo(req.query.returnTo) };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: this.redirectUri,
        scope: this.o.scopes,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: login.state,
        nonce: login.nonce,
      });
      this.setCookie(res, LOGIN_COOKIE, await this.seal(login, LOGIN_WINDOW_MS), LOGIN_WINDOW_MS, '/auth/callback');
      res.redirect(302, url.href);
    }));

    r.get('/auth/callback', wrap(async (req, res) => {
      const login = await this.unseal<{ verifier: string; state: string; nonce: string; returnTo: string }>(cookie.parse(req.get('cookie') ?? '')[LOGIN_COOKIE]);
      this.clearCookie(res, LOGIN_COOKIE, '/auth/callback');
      const fail = (why: string, status = 400) => void res.status(status).type('html').send(signInFailedPage(why));
      if (typeof req.query.error === 'string') {
        const denied = req.query.error === 'access_denied';
        return fail(denied ? 'You did not allow this service to read who you are (the provider answered access_denied).' : `The provider answered ${String(req.query.error).slice(0, 100)}.`, denied ? 403 : 400);
      }
      if (!login) return fail('This sign-in started too long ago, in another browser, or not at all.');
      let person: Person;
      try {
        const config = await this.provider();
        const url = new URL(req.originalUrl, this.redirectUri);
        const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true });
        let claims: Record<string, unknown> = { ...tokens.claims() };
        const { groupsClaim, emailClaim, nameClaim } = this.o.auth;
        // A strict provider gives the scopes' claims only at UserInfo.
        if (claims[emailClaim] === undefined || claims[groupsClaim] === undefined) claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))), ...claims };
        const email = typeof claims[emailClaim] === 'string' ? (claims[emailClaim] as string) : '';
        if (!email) return fail(`The provider gave no ${emailClaim} claim: ask your administrator to release it to this service.`);
        const groups = Array.isArray(claims[groupsClaim]) ? (claims[groupsClaim] as unknown[]).map(String) : typeof claims[groupsClaim] === 'string' ? [claims[groupsClaim] as string] : [];
        person = { email, name: typeof claims[nameClaim] === 'string' ? (claims[nameClaim] as string) : email, roles: rolesOf(groups, this.o.auth, this.o.teams(), email) };
      } catch (err) {
        // Never the code or a token: the error's class and its OAuth code only.
        const e = err as { name?: string; code?: string; error?: string; message?: string };
        this.o.logger.warn({ err: { type: e.name, code: e.code, error: e.error } }, 'sign-in failed');
        return fail(`The provider's answer could not be checked (${e.error ?? e.code ?? e.name ?? 'error'}): the code may have expired or been used, or the clocks disagree.`);
      }
      const now = Date.now();
      this.setCookie(res, SESSION_COOKIE, await this.seal({ ...person, csrf: randomBytes(24).toString('base64url'), began: now, seen: now }, this.o.ttlMs), this.o.ttlMs);
      this.o.logger.info({ email: person.email, teams: Object.keys(person.roles).length }, 'signed in');
      res.redirect(303, login.returnTo);
    }));

    r.post('/auth/logout', wrap(async (req, res) => {
      this.clearCookie(res, SESSION_COOKIE);
      res.status(204).end();
    }));

    r.get('/auth/me', wrap(async (req, res) => {
      if (!req.person) throw new HttpError(401, 'unauthorized', 'Not signed in');
      const { email, name, roles, csrf } = req.person;
      res.set('cache-control', 'no-store').json({ email, name, roles, csrfToken: csrf });
    }));
    return r;
  }
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function signInFailedPage(why: string): string {
  return linkDonePage('Sign-in did not complete', why).replace('</body>', '<p><a href="/auth/login">Sign in again</a></p></body>');
}
