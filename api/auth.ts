import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

/** `inbound` keys may only post customer replies (POST /inbound/email): a mail provider's key reads nothing. */
export const API_ROLES = ['viewer', 'agent', 'admin', 'inbound'] as const;
export type ApiRole = (typeof API_ROLES)[number];
const RANK: Record<ApiRole, number> = { inbound: -1, viewer: 0, agent: 1, admin: 2 };

export interface ApiKey {
  name: string;
  role: ApiRole;
  digest: Buffer;
}

export interface Principal {
  name: string;
  role: ApiRole | 'customer';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `name:role:key` entries, comma separated (API_KEYS). */
export function parseApiKeys(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, role, ...rest] = entry.split(':');
      const key = rest.join(':');
      if (!name || !key || !API_ROLES.includes(role as ApiRole)) {
        throw new Error(`API_KEYS entry "${name ?? entry}" must be name:role:key with role one of ${API_ROLES.join(', ')}`);
      }
      if (key.length < 16) throw new Error(`API_KEYS entry "${name}": the key must be at least 16 characters`);
      return { name, role: role as ApiRole, digest: digest(key) };
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
    if (!header) return next();
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const key = m ? findKey(keys, m[1]) : undefined;
    if (key) req.principal = { name: key.name, role: key.role };
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
