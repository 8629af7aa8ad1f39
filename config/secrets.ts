import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  linkSecret: string;
  /** Seals the people's session cookies (SESSION_SECRET, or generated here). */
  sessionSecret: string;
  /** The generated admin API key; only made when API_KEYS is unset. */
  adminKey?: string;
}

/**
 * Secrets not given in the environment are generated once and kept in DATA_DIR/secrets.json (mode 0600),
 * so every process on this machine signs and checks with the same ones. Several machines share them
 * through LINK_SECRET and API_KEYS instead.
 */
export function loadSecrets(dataDir: string, env: { LINK_SECRET?: string; API_KEYS?: string; SESSION_SECRET?: string }): Secrets {
  const file = join(dataDir, 'secrets.json');
  let kept: Partial<Secrets> = {};
  try {
    kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  } catch {
    kept = {};
  }
  const secrets: Secrets = {
    linkSecret: env.LINK_SECRET ?? kept.linkSecret ?? randomBytes(32).toString('base64url'),
    sessionSecret: env.SESSION_SECRET ?? kept.sessionSecret ?? randomBytes(32).toString('base64url'),
    ...(env.API_KEYS ? {} : { adminKey: kept.adminKey ?? `esc_${randomBytes(24).toString('base64url')}` }),
  };
  const toKeep = {
    ...kept,
    ...(env.LINK_SECRET ? {} : { linkSecret: secrets.linkSecret }),
    ...(env.SESSION_SECRET ? {} : { sessionSecret: secrets.sessionSecret }),
    ...(secrets.adminKey ? { adminKey: secrets.adminKey } : {}),
  };
  if (JSON.stringify(toKeep) !== JSON.stringify(kept)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(toKeep, null, 2), { mode: 0o600 });
  }
  return secrets;
}
