/**
 * `npm run test:cluster`: starts `npm run cluster` (a throwaway PostgreSQL, the Temporal server on it,
 * two workers, two APIs) on free ports, runs jest.cluster.config.js against it, then stops the cluster
 * with SIGINT as Ctrl-C does, which must end it cleanly and remove its database. Arguments go to jest.
 * Prints how long the build (or its reuse), the start, the tests and the stop took.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePortFree, freePort } from '../config/ports';
import { ROOT, buildServer } from './cluster/stack';

const log = (line: string) => process.stdout.write(`test:cluster: ${line}\n`);
const KEY = 'cluster-test-admin-key-0123456789';
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** Two free ports in a row: the cluster's APIs listen on PORT and PORT+1. */
async function portPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port >= 65535) continue;
    try {
      await ensurePortFree('PORT', port + 1, '127.0.0.1');
      return port;
    } catch {
      /* taken: another pair */
    }
  }
}

async function main() {
  let t = Date.now();
  buildServer(log);
  log(`server binaries ready in ${seconds(t)}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'escalation-cluster-'));
  const logFile = join(dataDir, 'cluster.log');
  const temporalPort = await freePort();
  const apiPort = await portPair();
  const env = {
    ...process.env,
    CLUSTER_TEMPORAL_PORT: String(temporalPort),
    PORT: String(apiPort),
    DATA_DIR: dataDir,
    API_KEYS: `cluster-admin:admin:${KEY}`,
    LINK_SECRET: 'cluster-test-link-secret-0123456789',
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'escalations',
    LOG_LEVEL: 'info',
  };
  t = Date.now();
  const cluster = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile);
  cluster.stdout!.pipe(out, { end: false });
  cluster.stderr!.pipe(out, { end: false });
  const exited = new Promise<number | null>((r) => cluster.once('exit', (code) => r(code)));
  const printed = () => readFileSync(logFile, 'utf8');
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 180_000);
    let seen = '';
    cluster.stdout!.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('cluster ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => resolve(false));
  });
  if (!ready) {
    cluster.kill('SIGINT');
    await exited;
    log(`npm run cluster did not get ready within 180 s; it printed:\n${printed().slice(-4000)}`);
    process.exit(1);
  }
  const pgData = /data in (\S+)/.exec(printed())?.[1];
  log(`npm run cluster ready in ${seconds(t)} (Temporal on 127.0.0.1:${temporalPort}, APIs on ${apiPort} and ${apiPort + 1}; its output: ${logFile})`);

  t = Date.now();
  const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), '--config', 'jest.cluster.config.js', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      TEMPORAL_TEST_ADDRESS: `127.0.0.1:${temporalPort}`,
      CLUSTER_API_URLS: `http://127.0.0.1:${apiPort},http://127.0.0.1:${apiPort + 1}`,
      CLUSTER_API_KEY: KEY,
      CLUSTER_DATA_DIR: dataDir,
    },
  });
  const jestCode = await new Promise<number | null>((r) => jest.once('exit', (code) => r(code)));
  log(`jest on the cluster: ${seconds(t)}, exit ${jestCode}`);

  // Ctrl-C, as a person stops it: everything ends and the database is removed.
  t = Date.now();
  cluster.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
  let stopped = code === 0 && (!pgData || !existsSync(pgData));
  if (code === 'hung') {
    cluster.kill('SIGKILL');
    stopped = false;
  }
  log(stopped ? `npm run cluster stopped on SIGINT in ${seconds(t)}, its database removed` : `npm run cluster did not stop cleanly on SIGINT (exit ${code}; database ${pgData} ${pgData && existsSync(pgData) ? 'left behind' : 'removed'}):\n${printed().slice(-3000)}`);
  process.exit(jestCode === 0 && stopped ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
