/**
 * `npm run cluster`: the service on a real Temporal cluster on this machine, no Docker. Builds (once) or
 * reuses the Temporal server and its schema tool under .tools/, starts a throwaway PostgreSQL, creates
 * both schemas, starts the server on PostgreSQL, registers the namespace and the case's search
 * attributes, then runs CLUSTER_WORKERS workers (2) and CLUSTER_APIS API processes (2, on PORT, PORT+1,
 * …). Ctrl-C stops everything and removes the database. The other variables are the service's own
 * (TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, SMTP_URL, API_KEYS, DATA_DIR, …), passed to every process.
 *   CLUSTER_TEMPORAL_PORT (7233): the server's frontend. CLUSTER_PG_PORT: PostgreSQL's (a free one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { TEMPORAL_PORT } from '../config/settings';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { ensurePortFree } from '../config/ports';
import { loadSecrets } from '../config/secrets';
import { ConfigError, parseEnv } from '../config/settings';
import { ROOT, buildServer, createSchemas, prepareNamespace, startPostgres, startServer, type Stoppable } from './cluster/stack';

const log = (line: string) => process.stdout.write(`cluster: ${line}\n`);

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new ConfigError(`${name}=${raw} is not a count from 0 to 16`);
  return n;
}

function port(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`${name}=${raw} is not a port (1-65535)`);
  return n;
}

interface Child {
  name: string;
  proc: ChildProcess;
}

async function main() {
  const env = parseEnv();
  const workers = count('CLUSTER_WORKERS', 2);
  const apis = count('CLUSTER_APIS', 2);
  const temporalPort = port('CLUSTER_TEMPORAL_PORT') ?? TEMPORAL_PORT;
  const pgPort = port('CLUSTER_PG_PORT');
  const namespace = env.TEMPORAL_NAMESPACE ?? 'default';
  const apiPorts = Array.from({ length: apis }, (_, i) => env.PORT + i);
  // Every port first: a taken one is a clear error at once, not a half-started cluster.
  await ensurePortFree('CLUSTER_TEMPORAL_PORT', temporalPort, '127.0.0.1');
  if (pgPort) await ensurePortFree('CLUSTER_PG_PORT', pgPort, '127.0.0.1');
  for (const [i, port] of apiPorts.entries()) await ensurePortFree(i === 0 ? 'PORT' : `PORT (+${i}, API ${i + 1})`, port);
  const dataDir = resolve(env.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const secrets = loadSecrets(dataDir, env); // once, before the processes that share DATA_DIR read it

  const stack: Stoppable[] = [];
  const children: Child[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log('stopping');
      const gone = (c: Child) => c.proc.exitCode !== null || c.proc.signalCode !== null;
      await Promise.all(
        children.filter((c) => !gone(c)).map(
          (c) =>
            new Promise<void>((r) => {
              c.proc.once('exit', () => r());
              c.proc.kill('SIGTERM');
              setTimeout(() => c.proc.kill('SIGKILL'), 20_000).unref();
            }),
        ),
      );
      for (const s of stack.reverse()) await s.stop();
      log('stopped');
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));

  try {
    const tools = buildServer(log);
    const pg = await startPostgres(log, pgPort);
    stack.push(pg);
    createSchemas(tools, pg.port, log);
    const server = await startServer(tools, { pgPort: pg.port, frontendPort: temporalPort, dir: join(dataDir, 'cluster') }, log);
    stack.push(server);
    const connection = await Connection.connect({ address: server.address });
    await prepareNamespace(connection, namespace, 30).finally(() => connection.close());
    log(`namespace ${namespace} with the case's search attributes`);

    const common = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: namespace, DATA_DIR: dataDir, NODE_ENV: process.env.NODE_ENV ?? 'production' };
    const run = (name: string, program: string, extra: Record<string, string>) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', program], { cwd: ROOT, env: { ...process.env, ...common, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
      const child = { name, proc };
      children.push(child);
      const prefix = (b: Buffer) =>
        b
          .toString()
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => `${name}: ${l}\n`)
          .join('');
      proc.stdout!.on('data', (b: Buffer) => process.stdout.write(prefix(b)));
      proc.stderr!.on('data', (b: Buffer) => process.stderr.write(prefix(b)));
      proc.once('exit', (code, signal) => {
        if (!stopping) log(`${name} exited (${signal ?? code}); the others go on`);
      });
      return new Promise<void>((ready, failed) => {
        const watch = (b: Buffer) => {
          if (/worker running|API on http/.test(b.toString())) ready();
        };
        proc.stdout!.on('data', watch);
        proc.once('exit', () => failed(new Error(`${name} exited while starting`)));
      });
    };
    await Promise.all([
      ...Array.from({ length: workers }, (_, i) => run(`worker-${i + 1}`, 'worker/main.ts', {})),
      ...apiPorts.map((port, i) => run(`api-${i + 1}`, 'api/main.ts', { PORT: String(port) })),
    ]);
    const lines = [
      '',
      `  Temporal     ${server.address} (server ${tools.version} on PostgreSQL 127.0.0.1:${pg.port}), namespace ${namespace}`,
      `  Workers      ${workers} on task queue ${env.TEMPORAL_TASK_QUEUE}`,
      ...apiPorts.map((port, i) => `  API ${i + 1}        http://localhost:${port}`),
      env.SMTP_URL ? `  Email        ${new URL(env.SMTP_URL).host}` : `  Outbox       ${join(dataDir, 'outbox')} (no SMTP_URL: emails are written here)`,
      ...(secrets.adminKey ? [`  Admin key    ${secrets.adminKey}  (kept in ${join(dataDir, 'secrets.json')}; set API_KEYS to choose your own)`] : []),
      '',
      '  cluster ready. Ctrl-C stops everything and removes the database.',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    await stop();
    throw err;
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError || err instanceof Error ? `cluster: ${err.message}` : err);
  process.exit(1);
});
