/**
 * The embedded Temporal dev server of `npm start`.
 *
 * With the Temporal CLI on this machine (scripts/install-tools.sh, the PATH or TEMPORAL_CLI_PATH) it runs
 * in a session of its own: a terminal's Ctrl-C reaches `npm start` alone, which stops the API, then the
 * worker, then this server. Otherwise the Ctrl-C reached the server at the same moment as the worker,
 * whose last calls then failed against a server going away, and both printed errors.
 * Without the CLI, the SDK downloads one and runs it as its own child (the fallback, in our process group).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ServerExecutable } from '../config/temporal-binaries';

export interface DevServerOptions {
  executable: ServerExecutable;
  ip: string;
  port: number;
  uiPort: number;
  dbFilename: string;
  namespace: string;
  searchAttributes: { name: string; type: SearchAttributeType }[];
  /** `--sqlite-pragma` values. */
  sqlitePragmas: readonly string[];
  /** How long the server may take to answer (default 60 s). */
  startTimeoutMs?: number;
}

export interface EmbeddedDevServer {
  address: string;
  /** Whether a terminal's Ctrl-C reaches the server as well as us (only the SDK-downloaded fallback). */
  sharesOurSignals: boolean;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** The CLI's arguments for `server start-dev` (the SDK's, plus a database, the UI port and the pragmas). */
function devServerArgs(o: DevServerOptions): string[] {
  return [
    'server', 'start-dev',
    '--ip', o.ip,
    '--port', String(o.port),
    '--ui-port', String(o.uiPort),
    '--namespace', o.namespace,
    '--db-filename', o.dbFilename,
    // Its warnings are about itself: errors only.
    '--log-format', 'pretty',
    '--log-level', 'error',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    ...o.searchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${TypedSearchAttributes.toMetadataType(k.type)}`]),
    ...o.sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]),
  ];
}

export async function startDevServer(o: DevServerOptions): Promise<EmbeddedDevServer> {
  if (o.executable.type !== 'existing-path') return startDownloaded(o);
  const path = o.executable.path;
  const child = spawn(path, devServerArgs(o), { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  // Should this process end without stop() (an uncaught error), the server goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const address = `${o.ip}:${o.port}`;
  // SIGKILL, as the SDK's own teardown does: every commit is already on disk (the WAL pragmas, and the
  // fault test that kills and restarts the server on its database), while a graceful stop only prints the
  // server's complaints about tasks it can no longer hand out.
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (!running(child)) return;
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([
      answering(address, o.startTimeoutMs ?? 60_000),
      exited.then(({ code, signal }) => Promise.reject(new Error(`the Temporal dev server (${path}) exited (${signal ?? `code ${code}`}) before it answered on ${address}; its output is above`))),
      spawnError.then((err) => Promise.reject(new Error(`the Temporal dev server could not be started: ${err.message}`))),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, sharesOurSignals: false, stop };
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

/** Resolves once the server answers a call (bounded). */
async function answering(address: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs / 1000} s: ${last instanceof Error ? last.message : String(last)}`);
}

/** The fallback without a CLI on this machine: the SDK downloads one and runs it. */
async function startDownloaded(o: DevServerOptions): Promise<EmbeddedDevServer> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: o.executable,
      ip: o.ip,
      port: o.port,
      ui: true,
      uiPort: o.uiPort,
      dbFilename: o.dbFilename,
      extraArgs: o.sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]),
      namespace: o.namespace,
      searchAttributes: o.searchAttributes,
      log: { format: 'pretty', level: 'error' },
    },
  });
  return { address: `${o.ip}:${o.port}`, sharesOurSignals: true, stop: () => env.teardown() };
}
