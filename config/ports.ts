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

/** A port nobody listens on right now on loopback (the OS's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
