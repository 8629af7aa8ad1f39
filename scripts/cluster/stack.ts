/**
 * Temporal as a team deploys it, on this machine and without Docker: the Temporal server and its schema
 * tool built from their Go module (the version the compose file runs), a throwaway PostgreSQL of its own,
 * both schemas created by the schema tool, the server started with a PostgreSQL config, and a namespace
 * with the case's search attributes. Used by `npm run cluster` and `npm run test:cluster`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import YAML from 'yaml';
import { freePort } from '../../config/ports';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/messages';

export const ROOT = resolve(__dirname, '..', '..');
export type Log = (line: string) => void;

/** The Temporal server version: the one docker-compose.yml runs, read from it (one place for it). */
export function serverVersion(): string {
  const m = /image:\s*temporalio\/server:(\d+\.\d+\.\d+)/.exec(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
  if (!m) throw new Error('docker-compose.yml names no temporalio/server image');
  return m[1];
}

export interface ServerTools {
  version: string;
  dir: string;
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the server's module: temporal/ and visibility/. */
  schemaDir: string;
  /** The module's config/development-postgres12.yaml and its dynamic config. */
  configTemplate: string;
  dynamicConfigTemplate: string;
}

function toolsOf(version: string): ServerTools {
  const dir = join(ROOT, '.tools', 'temporal-server', version);
  return {
    version,
    dir,
    server: join(dir, 'bin', 'temporal-server'),
    sqlTool: join(dir, 'bin', 'temporal-sql-tool'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
    configTemplate: join(dir, 'config', 'development-postgres12.yaml'),
    dynamicConfigTemplate: join(dir, 'config', 'development-sql.yaml'),
  };
}

function which(name: string, extra: string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extra]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The server and schema tool under .tools/temporal-server/<version>/, built with `go install` from the
 * server's Go module the first time (a few minutes on two cores) and reused after. GOTOOLCHAIN=auto lets
 * an older Go fetch the toolchain the module asks for (a module itself, from the Go module proxy).
 */
export function buildServer(log: Log, version = serverVersion()): ServerTools {
  const tools = toolsOf(version);
  const done = join(tools.dir, '.built');
  if (existsSync(done)) {
    log(`Temporal server ${version}: reusing ${relative(ROOT, tools.dir)}`);
    return tools;
  }
  const go = which('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
  if (!go) throw new Error('Go is needed to build the Temporal server: install it (Debian: apt-get install golang-go; GOTOOLCHAIN=auto fetches the newer toolchain the server needs)');
  rmSync(tools.dir, { recursive: true, force: true });
  mkdirSync(join(tools.dir, 'bin'), { recursive: true });
  const env = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto', GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false', GOBIN: join(tools.dir, 'bin') };
  const began = Date.now();
  log(`Temporal server ${version}: building the server and its schema tool from the Go module (the first time takes minutes)`);
  const module = `go.temporal.io/server@v${version}`;
  const built = spawnSync(go, ['install', `go.temporal.io/server/cmd/server@v${version}`, `go.temporal.io/server/cmd/tools/sql@v${version}`], { env, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`go install of ${module} failed (exit ${built.status ?? built.signal})`);
  const listed = spawnSync(go, ['mod', 'download', '-json', module], { env, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`go mod download ${module} failed: ${listed.stderr}`);
  const moduleDir = (JSON.parse(listed.stdout) as { Dir: string }).Dir;
  renameSync(join(tools.dir, 'bin', 'server'), tools.server);
  renameSync(join(tools.dir, 'bin', 'sql'), tools.sqlTool);
  cpSync(join(moduleDir, 'schema', 'postgresql', 'v12'), tools.schemaDir, { recursive: true });
  mkdirSync(join(tools.dir, 'config'), { recursive: true });
  cpSync(join(moduleDir, 'config', 'development-postgres12.yaml'), tools.configTemplate);
  cpSync(join(moduleDir, 'config', 'dynamicconfig', 'development-sql.yaml'), tools.dynamicConfigTemplate);
  writable(tools.dir); // the module cache's files are read-only; copies of them should not be
  writeFileSync(done, `${module} built in ${Math.round((Date.now() - began) / 1000)} s\n`);
  log(`Temporal server ${version}: built in ${Math.round((Date.now() - began) / 1000)} s`);
  return tools;
}

function writable(path: string) {
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) writable(p);
    else chmodSync(p, entry.name.startsWith('temporal-') ? 0o755 : 0o644);
  }
}

/**
 * A free port below 32768 on 127.0.0.1 (freePort's range): the cluster_membership table keeps a
 * member's port as a smallint on PostgreSQL, so a membership port from the OS's ephemeral range (32768
 * up) fails the start.
 */
async function freeLowPort(taken: Set<number>): Promise<number> {
  const port = await freePort(taken);
  taken.add(port);
  return port;
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal || Date.now() > end) throw new Error(`${what}: not ready after ${timeoutMs / 1000} s: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface Stoppable {
  stop(): Promise<void>;
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals, graceMs: number) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited(proc);
  clearTimeout(timer);
}

/** Debian's PostgreSQL: initdb and postgres on PATH or under /usr/lib/postgresql/<version>/bin. */
function postgresBin(): string {
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join('/usr/lib/postgresql', v, 'bin'))
    : [];
  for (const dir of [...debian, ...(process.env.PATH ?? '').split(delimiter)]) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new Error('PostgreSQL is needed: install it (Debian: apt-get install postgresql)');
}

/** PostgreSQL refuses to run as root: as root the throwaway server runs as the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('PostgreSQL does not run as root and there is no postgres user: run as another user, or install Debian\'s postgresql (it adds one)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface Postgres extends Stoppable {
  port: number;
  dataDir: string;
  /** The postmaster's process id (its backends are its children). */
  pid: number | undefined;
}

/**
 * A throwaway PostgreSQL: its own data directory (removed at stop) and port, on 127.0.0.1 only, user
 * `temporal` with trust auth. Tuned for a throwaway (no fsync): for trying and testing, not for keeping.
 */
export async function startPostgres(log: Log, port?: number): Promise<Postgres> {
  const bin = postgresBin();
  const owner = runAs();
  const pgPort = port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'escalation-pg-'));
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  const data = join(dataDir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'temporal', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...ids, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error}`);
  const proc = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(pgPort), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-1500)));
  const ready = () => spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'temporal'], { encoding: 'utf8' });
  await until(`PostgreSQL on port ${pgPort}`, 30_000, async () => {
    if (proc.exitCode !== null) throw Object.assign(new Error(`postgres exited: ${err}`), { fatal: true });
    if (ready().status !== 0) throw new Error('not accepting connections');
  }).catch(async (e) => {
    await stopProcess(proc, 'SIGKILL', 0);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  log(`PostgreSQL (${relative('/usr/lib/postgresql', bin).split('/')[0] || bin}) on 127.0.0.1:${pgPort}, data in ${dataDir}`);
  return {
    port: pgPort,
    dataDir,
    pid: proc.pid,
    async stop() {
      await stopProcess(proc, 'SIGINT', 15_000); // fast shutdown
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Both databases and their schemas, with Temporal's schema tool: create, set up, then every versioned step. */
export function createSchemas(tools: ServerTools, pgPort: number, log: Log) {
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ]) {
    const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', 'temporal', '--db', db];
    for (const step of [['create'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', join(tools.schemaDir, dir, 'versioned')]]) {
      const r = spawnSync(tools.sqlTool, [...common, ...step], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`temporal-sql-tool ${step[0]} on ${db} failed: ${r.stdout}${r.stderr}`);
    }
  }
  log('schemas created with temporal-sql-tool (temporal, temporal_visibility)');
}

export interface TemporalServer extends Stoppable {
  address: string;
  logFile: string;
  pid: number | undefined;
}

/**
 * The server with the module's own PostgreSQL config (config/development-postgres12.yaml), its ports
 * moved to free ones (the frontend on `frontendPort`), its dynamic config the module's development-sql
 * plus the compose stack's (deploy/temporal/dynamicconfig.yaml).
 */
export async function startServer(tools: ServerTools, o: { pgPort: number; frontendPort: number; dir: string }, log: Log): Promise<TemporalServer> {
  mkdirSync(o.dir, { recursive: true });
  const cfg = YAML.parse(readFileSync(tools.configTemplate, 'utf8'));
  for (const store of Object.values(cfg.persistence.datastores) as { sql: Record<string, unknown> }[]) {
    store.sql.connectAddr = `127.0.0.1:${o.pgPort}`;
    store.sql.password = '';
  }
  cfg.persistence.datastores['postgres-visibility'].sql.maxConns = 10;
  cfg.persistence.datastores['postgres-visibility'].sql.maxIdleConns = 10;
  const logFile = join(o.dir, 'temporal.log');
  cfg.log = { stdout: false, level: 'warn', outputFile: logFile };
  cfg.global.pprof = { port: 0 };
  cfg.global.metrics.prometheus.listenAddress = `127.0.0.1:${await freePort()}`;
  const taken = new Set<number>([o.frontendPort]);
  for (const [name, svc] of Object.entries(cfg.services) as [string, { rpc: Record<string, unknown> }][]) {
    svc.rpc.grpcPort = name === 'frontend' ? o.frontendPort : await freePort();
    svc.rpc.membershipPort = await freeLowPort(taken);
    if ('httpPort' in svc.rpc) svc.rpc.httpPort = await freePort();
  }
  cfg.clusterMetadata.clusterInformation.active.rpcAddress = `127.0.0.1:${o.frontendPort}`;
  const dynamic = { ...YAML.parse(readFileSync(tools.dynamicConfigTemplate, 'utf8')), ...YAML.parse(readFileSync(join(ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8')) };
  writeFileSync(join(o.dir, 'dynamicconfig.yaml'), YAML.stringify(dynamic));
  cfg.dynamicConfigClient = { filepath: join(o.dir, 'dynamicconfig.yaml'), pollInterval: '10s' };
  const configFile = join(o.dir, 'temporal-postgres.yaml');
  writeFileSync(configFile, YAML.stringify(cfg));

  const proc = spawn(tools.server, ['--config-file', configFile, '--allow-no-auth', 'start'], { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-1500)));
  const address = `127.0.0.1:${o.frontendPort}`;
  const stop = () => stopProcess(proc, 'SIGTERM', 20_000);
  try {
    await until(`Temporal server on ${address}`, 120_000, async () => {
      if (proc.exitCode !== null) throw Object.assign(new Error(`the server exited (${proc.exitCode}):${tail(logFile) || ` ${err}`}`), { fatal: true });
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    });
  } catch (e) {
    await stop();
    throw e;
  }
  log(`Temporal server ${tools.version} on ${address} (PostgreSQL persistence and SQL visibility; log ${logFile})`);
  return { address, logFile, pid: proc.pid, stop };
}

/** The server log's last errors, their message and error only (its lines carry whole stack traces). */
function tail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /"level":"(error|fatal)"/.test(l));
    return lines
      .slice(-3)
      .map((l) => {
        const { msg, error } = JSON.parse(l) as { msg?: string; error?: string };
        return `\n  ${msg}${error ? `: ${error}` : ''}`;
      })
      .join('');
  } catch {
    return '';
  }
}

const ALREADY_EXISTS = 6;

/**
 * Registers the namespace when it is missing (retention in days), then the case's search attributes,
 * and waits until the frontend accepts a visibility query naming every one of them: on a real server a
 * new namespace and its attributes reach each service's cache after a refresh (seconds).
 */
export async function prepareNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retentionDays * 86_400_000) });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
  await until(`namespace ${namespace}`, 60_000, () => connection.workflowService.describeNamespace({ namespace }));
  await until(`search attributes in ${namespace}`, 60_000, () => ensureSearchAttributes(connection, namespace));
  const query = ALL_SEARCH_ATTRIBUTES
    .map((k) => `${k.name} IS NULL`)
    .join(' OR ');
  await until(`search attributes of ${namespace} in queries`, 60_000, () => connection.workflowService.countWorkflowExecutions({ namespace, query }));
}
