import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

/** `inbound` keys may only post customer replies (POST /inbound/email): a mail provider's key reads nothing. */
export const API_ROLES = ['viewer', 'agent', 'admin', 'inbound'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export const RANK: Record<ApiRole, number> = { inbound: -1, viewer: 0, agent: 1, admin: 2 };

export interface ApiKey {
  name: string;
  role: ApiRole;
  /** The teams the key holds its role in; undefined: every team. */
  teams?: readonly string[];
  digest: Buffer;
}

/**
 * Who is asking: an API key, a customer's signed link, a Slack user. `role` is the highest role held
 * anywhere (what an endpoint needs at all); `teams`, when set, is the role held in each team, and no
 * other team's cases exist for the principal (api/access.ts decides, in one place).
 */
export interface Principal {
  name: string;
  role: ApiRole | 'customer';
  teams?: Readonly<Record<string, ApiRole>>;
  /** A person signed in with the identity provider (api/sessions.ts): who acted, on the record. */
  person?: { name: string; email: string };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `name:role:key` entries, comma separated (API_KEYS): the role in every team. `name:role:key:teamA|teamB`:
 * the role in those teams only, when every one of them is in `knownTeams` (else the last part belongs to
 * the key, which may hold colons: a mistyped team makes a key nobody presents, never a wider one).
 */
export function parseApiKeys(spec: string, knownTeams?: readonly string[]): ApiKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, role, ...rest] = entry.split(':');
      // A key may hold colons: its last part names teams only when every name in it is a team.
      const scoped = !!knownTeams && rest.length >= 2 && rest.at(-1)!.split('|').every((t) => knownTeams.includes(t));
      const key = (scoped ? rest.slice(0, -1) : rest).join(':');
      if (!name || !key || !API_ROLES.includes(role as ApiRole)) {
        throw new Error(`API_KEYS entry "${name ?? entry}" must be name:role:key or name:role:key:teamA|teamB with role one of ${API_ROLES.join(', ')}`);
      }
      if (key.length < 16) throw new Error(`API_KEYS entry "${name}": the key must be at least 16 characters`);
      const teams = scoped ? [...new Set(rest.at(-1)!.split('|'))] : undefined;
      if (teams && role === 'inbound') throw new Error(`API_KEYS entry "${name}": an inbound key posts replies to every team's cases and reads none; it takes no teams`);
      return { name, role: role as ApiRole, ...(teams ? { teams } : {}), digest: digest(key) };
    });
}

/** Finds the key in constant time: every configured key is compared, equal-length digests only. */
export function findKey(keys: ApiKey[], presented: string): ApiKey | undefined {
  const d = digest(presented);
  let match: ApiKey | undefined;
  for (const k of keys) if (timingSafeEqual(k.digest, d) && !match) match = k;
  return match;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** An Authorization header was sent and is not a valid key. */
    badCredentials?: boolean;
  }
}

/**
 * Sets req.principal from `Authorization: Bearer <key>`, when present and valid. A wrong key is only
 * an error where a key is needed (requireRole): public endpoints ignore credentials.
 */
export function authenticate(keys: ApiKey[]): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) {
      // A signed-in person (the session cookie, read before this): their roles per team, the highest as `role`.
      const p = req.person;
      if (p) {
        const roles = Object.values(p.roles);
        const top = roles.reduce<ApiRole>((a, r) => (RANK[r] > RANK[a] ? r : a), 'viewer');
        req.principal = { name: p.name, role: top, teams: p.roles, person: { name: p.name, email: p.email } };
      }
      return next();
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const key = m ? findKey(keys, m[1]) : undefined;
    if (key) req.principal = { name: key.name, role: key.role, ...(key.teams ? { teams: Object.fromEntries(key.teams.map((t) => [t, key.role])) } : {}) };
    else req.badCredentials = true;
    next();
  };
}

/** The key's role must be `role` or above; `also` admits one role outside the ranks (inbound). */
export function requireRole(role: ApiRole, also?: ApiRole): RequestHandler {
  return (req, _res, next) => {
    const p = req.principal;
    if (!p && req.badCredentials) return next(new HttpError(401, 'unauthorized', 'The API key is not valid'));
    if (!p) return next(new HttpError(401, 'unauthorized', 'Send an API key: Authorization: Bearer <key>'));
    if (p.role === also) return next();
    if (p.role === 'customer' || RANK[p.role] < RANK[role]) {
      return next(new HttpError(403, 'forbidden', `This needs the ${role} role; your key has ${p.role}`));
    }
    next();
  };
}
