import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ClientConnectConfig } from '@temporalio/envconfig';

/**
 * How to reach Temporal: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and
 * temporal.toml profiles, read by @temporalio/envconfig. `address` overrides them (the embedded dev server).
 */
export function temporalConnectConfig(opts: { address?: string } = {}): Required<Pick<ClientConnectConfig, 'namespace'>> & ClientConnectConfig {
  const config = loadClientConnectConfig(opts.address ? { overrideEnvVars: { ...stringEnv(), TEMPORAL_ADDRESS: opts.address } } : {});
  return { ...config, namespace: config.namespace ?? 'default' };
}

function stringEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
