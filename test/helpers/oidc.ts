import { join } from 'node:path';
import { freePort, spawnProgram, type Proc } from './processes';

export interface TestPerson {
  email: string;
  name: string;
  groups: string[];
}

/** A real OpenID provider in its own process (test/helpers/oidc-provider.mjs), with one confidential client. */
export async function startOidcProvider(o: { redirectUris: string[]; people: Record<string, TestPerson> }): Promise<{ issuer: string; clientId: string; clientSecret: string; proc: Proc; stop(): Promise<void> }> {
  const port = await freePort();
  const clientId = 'escalations';
  const clientSecret = 'escalations-client-secret-0123456789';
  const config = { port, clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: o.redirectUris, grant_types: ['authorization_code'], response_types: ['code'] }], people: o.people };
  const proc = spawnProgram(join(__dirname, 'oidc-provider.mjs'), {}, [], [JSON.stringify(config)]);
  await proc.waitFor(/oidc provider ready/, 30_000);
  return { issuer: `http://127.0.0.1:${port}`, clientId, clientSecret, proc, stop: () => proc.kill('SIGTERM') };
}
