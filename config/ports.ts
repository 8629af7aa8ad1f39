import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ConfigError } from './settings';

/**
 * Fails fast, naming the variable, when a port the service must listen on is taken: otherwise the
 * embedded Temporal server waits forever for a port it cannot have, and another process would answer
 * in the service's place.
 */
export async function ensurePortFree(variable: string, port: number, host?: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new ConfigError(`${variable}=${port} cannot be used: ${err.code === 'EACCES' ? 'not allowed' : `another process listens on ${host ?? 'that port'}`}. Stop it, or set ${variable} to a free port.`)
          : err,
      ),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Whether a port can be listened on right now (on `host`). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The first port of the OS's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), else 32768; read once. */
let ephemeralLowRead: number | undefined;
function ephemeralLow(): number {
  return (ephemeralLowRead ??= readEphemeralLow());
}
function readEphemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const FREE_PORT_LOW = 20_000;
/** The ports this process handed out, never handed out twice. */
const handedOut = new Set<number>();

/**
 * A port nobody listens on right now on loopback, for tests and local stacks. It is chosen below the
 * OS's ephemeral range (and below 32768): there, neither an outgoing connection's local port nor a
 * program asking the OS for any free port (a dev server's internal services do) can take it between
 * this check and its use, which made a test's dev server fail to bind now and then. `taken` holds ports
 * already chosen for something not yet listening.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const high = Math.min(ephemeralLow(), 32_768);
  for (let tries = 0; tries < 500; tries++) {
    const port = FREE_PORT_LOW + Math.floor(Math.random() * (high - FREE_PORT_LOW));
    if (handedOut.has(port) || taken.has(port) || !(await portIsFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${FREE_PORT_LOW} and ${high} on 127.0.0.1 after 500 tries`);
}
