/**
 * The workflow code, bundled in a child process of its own.
 *
 * Webpack runs when a worker starts. Run in the worker's own process, it left the worker about 170 MB
 * more resident memory for good (`npm run bench`, part `idle`; BENCHMARKS.md): V8 gives
 * back little of a heap once grown. In a child, the memory goes back to the system when the child exits,
 * and the worker only parses the finished bundle, as a worker given a prebuilt one does.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { WORKFLOW_BUNDLE_SOURCE } from './workflow-source';

/**
 * The bundle's code (its source map inline), as `Worker.create`'s `workflowBundle: { code }` takes it.
 * `workflowsPath`: the workflows' module, the product's unless a test names another.
 */
export function bundleInChildProcess(workflowsPath = WORKFLOW_BUNDLE_SOURCE.workflowsPath): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    // tsx (resolved from the project, whatever the caller's directory) runs the child's TypeScript; the
    // child takes none of the parent's node flags.
    const child = fork(require.resolve('./bundle-child'), [workflowsPath], {
      cwd: join(__dirname, '..'),
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let code: string | undefined;
    child.once('message', (m: { code?: string; error?: string }) => {
      if (typeof m.code === 'string') code = m.code;
      else reject(new Error(`bundling the workflow code failed: ${m.error ?? 'no bundle'}`));
    });
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      if (code !== undefined) resolve({ code });
      else reject(new Error(`bundling the workflow code failed: its process exited (${signal ?? status})`));
    });
  });
}
