import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { Logger } from './logger';
import { TEMPORAL_PORT } from './settings';

export interface RetryOptions {
  /** First wait after a failed attempt (default 500 ms); it doubles up to maxDelayMs. */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 10 s). */
  maxDelayMs?: number;
  /** Stops retrying: the promise rejects with `StoppedWaiting`. */
  signal?: AbortSignal;
}

export class StoppedWaiting extends Error {
  constructor(what: string) {
    super(`stopped while waiting for ${what}`);
    this.name = 'StoppedWaiting';
  }
}

/**
 * Calls `connect` until it succeeds, waiting 0.5 s, 1 s, 2 s … up to 10 s between attempts, one warning
 * line per failed attempt. A worker or API started beside Temporal (compose, a cluster's rollout) waits
 * for it instead of exiting.
 */
export async function untilConnected<T>(what: string, connect: () => Promise<T>, logger: Logger, o: RetryOptions = {}): Promise<T> {
  const initial = o.initialDelayMs ?? 500;
  const max = o.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new StoppedWaiting(what);
    try {
      const connected = await connect();
      if (attempt > 1) logger.info({ attempts: attempt }, `${what} answered`);
      return connected;
    } catch (err) {
      if (o.signal?.aborted) throw new StoppedWaiting(what);
      const delay = Math.min(max, initial * 2 ** (attempt - 1));
      logger.warn({ attempt, retryInMs: delay, reason: reasonOf(err) }, `${what} is not reachable yet; retrying in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, o.signal);
    }
  }
}

/** An AbortSignal that fires on SIGINT or SIGTERM while a program waits to start (Ctrl-C stops it quietly). */
export function stopSignal(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].slice(0, 300);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * The one way the programs reach Temporal: a client connection from the envconfig settings, waiting for
 * Temporal with backoff. `options` adjusts the connection (the API caps its gRPC retries).
 */
export function connectToTemporal(
  connect: { connectionOptions?: ConnectionOptions | Record<string, unknown> },
  logger: Logger,
  o: { signal?: AbortSignal; options?: (base: ConnectionOptions) => ConnectionOptions } = {},
): Promise<Connection> {
  const base: ConnectionOptions = { connectTimeout: '5s', ...(connect.connectionOptions as ConnectionOptions) };
  const address = base.address ?? `localhost:${TEMPORAL_PORT}`;
  return untilConnected(`Temporal at ${address}`, () => Connection.connect(o.options ? o.options(base) : base), logger, { signal: o.signal });
}

/** For a program's start: Ctrl-C while waiting for Temporal is a clean exit 0; any other error goes on. */
export function quitIfStopped(logger: Logger) {
  return (err: unknown): never => {
    if (err instanceof StoppedWaiting) {
      logger.info('stopped before Temporal answered');
      process.exit(0);
    }
    throw err;
  };
}
