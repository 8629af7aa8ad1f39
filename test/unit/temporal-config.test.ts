/** How the service finds Temporal: envconfig's variables and temporal.toml profiles (README, "Running it at scale"). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalConnectConfig } from '../../config/temporal';

const VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_TLS'];
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
  for (const k of VARS) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

const toml = join(mkdtempSync(join(tmpdir(), 'temporal-toml-')), 'temporal.toml');
writeFileSync(
  toml,
  ['[profile.default]', 'address = "temporal.internal:7233"', 'namespace = "support"', '', '[profile.cloud]', 'address = "my-ns.a1b2c.tmprl.cloud:7233"', 'namespace = "my-ns.a1b2c"', 'api_key = "cloud-key-123"', ''].join('\n'),
);

test('nothing set: localhost and the default namespace', () => {
  const c = withEnv({ TEMPORAL_CONFIG_FILE: join(tmpdir(), 'no-such-temporal.toml') }, () => temporalConnectConfig());
  expect(c.namespace).toBe('default');
  expect(c.connectionOptions?.address ?? 'localhost:7233').toMatch(/localhost:7233|127\.0\.0\.1:7233/);
});

test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', () => {
  const c = withEnv({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'escalations' }, () => temporalConnectConfig());
  expect([c.connectionOptions?.address, c.namespace]).toEqual(['temporal:7233', 'escalations']);
});

test('a temporal.toml profile, and Temporal Cloud with an API key (TLS on)', () => {
  const d = withEnv({ TEMPORAL_CONFIG_FILE: toml }, () => temporalConnectConfig());
  expect([d.connectionOptions?.address, d.namespace]).toEqual(['temporal.internal:7233', 'support']);
  const cloud = withEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' }, () => temporalConnectConfig());
  expect([cloud.connectionOptions?.address, cloud.namespace, cloud.connectionOptions?.apiKey]).toEqual(['my-ns.a1b2c.tmprl.cloud:7233', 'my-ns.a1b2c', 'cloud-key-123']);
  expect(cloud.connectionOptions?.tls).toBeTruthy();
  // A variable wins over the profile.
  const mixed = withEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other.a1b2c' }, () => temporalConnectConfig());
  expect(mixed.namespace).toBe('other.a1b2c');
});

test('the embedded dev server’s address overrides every source', () => {
  const c = withEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_ADDRESS: 'elsewhere:7233' }, () => temporalConnectConfig({ address: '127.0.0.1:7299' }));
  expect(c.connectionOptions?.address).toBe('127.0.0.1:7299');
});
