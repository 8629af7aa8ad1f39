/**
 * The workflow code, bundled in a child process of its own.
 *
 * Webpack runs when a worker starts. Run in the worker's own process, it left the worker 95–140 MiB
 * more resident memory for good (406–447 against about 310 MiB at rest, `npm run bench`, part `idle`): V8 gives
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
    // Settled when the child has exited, so no bundler outlives the answer.
    let answer: { code?: string; error?: string } = {};
    child.once('message', (m: { code?: string; error?: string }) => (answer = m));
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      if (typeof answer.code === 'string') resolve({ code: answer.code });
      else reject(new Error(`bundling the workflow code failed: ${answer.error ?? `its process exited (${signal ?? status})`}`));
    });
  });
}
