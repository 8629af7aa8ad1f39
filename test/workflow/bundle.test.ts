import { readFileSync, readdirSync } from 'node:fs';
import { bundleInChildProcess } from '../../worker/bundle';
import { uniqueId } from '../helpers/fixtures';
import { spawnProgram } from '../helpers/processes';
import { devServerEnv } from '../helpers/temporal';

/** The command lines of a process's children, from /proc (Linux). */
function childrenOf(pid: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

// The bundle's success path is also every saved history replaying on it (replay.test.ts) and every test
// that runs `npm run worker` or `npm start`.
test('`npm run worker` bundles its workflow code in a child process, which is gone once the worker runs', async () => {
  const env = await devServerEnv();
  const worker = spawnProgram('worker/main.ts', {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: uniqueId('tq'),
    LINK_SECRET: 'bundle-test-link-secret-0123456789',
    DATA_DIR: '/tmp',
  });
  try {
    let running = false;
    const started = worker.waitFor(/worker running/, 120_000).then(() => (running = true));
    const bundlers = new Set<string>();
    // Bundling takes seconds; the worker's children are read every 25 ms until it runs (bounded above).
    while (!running && worker.proc.exitCode === null) {
      for (const c of childrenOf(worker.proc.pid!)) if (c.includes('bundle-child')) bundlers.add(c);
      await Promise.race([started, new Promise((r) => setTimeout(r, 25))]);
    }
    await started;
    expect([...bundlers]).toEqual([expect.stringContaining('worker/bundle-child')]);
    expect(childrenOf(worker.proc.pid!).filter((c) => c.includes('bundle-child'))).toEqual([]);
  } finally {
    await worker.kill();
    await env.teardown();
  }
}, 150_000);

test('a workflow bundle that cannot be made rejects with the bundler’s reason', async () => {
  await expect(bundleInChildProcess('/nonexistent/workflows.ts')).rejects.toThrow(/^bundling the workflow code failed: .*nonexistent/s);
}, 120_000);
