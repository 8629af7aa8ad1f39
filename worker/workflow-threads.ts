import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Worker as Thread, WorkerOptions } from 'node:worker_threads';

/** worker/workflow-thread-preload.cjs: turns the SDK's per-promise stack traces off in a workflow thread. */
export const NO_STACK_TRACES_PRELOAD = join(__dirname, 'workflow-thread-preload.cjs');

type ThreadClass = new (filename: string | URL, options?: WorkerOptions) => Thread;

/**
 * Runs `create` (the SDK's `Worker.create`, which starts the worker's workflow threads) so that each
 * workflow thread it starts loads `preload` first. The SDK starts its threads with no options, and a
 * thread's preloads come only from its `execArgv`, so for the length of `create` the `Worker` of
 * `node:worker_threads` (the module object the SDK reads it from) gives the SDK's workflow threads the
 * process's own `execArgv` plus `--require preload`; any other thread starts as it would have.
 *
 * Node refuses a thread V8's and process-wide flags (`--max-old-space-size`, `--expose-gc`): those are in
 * force for every thread already, so a process started with one gives its workflow threads the preload
 * alone (they need nothing else: the SDK's thread and the workflow bundle are plain JavaScript).
 */
export async function withWorkflowThreadPreload<T>(preload: string, create: () => Promise<T>): Promise<T> {
  const threads = createRequire(__filename)('node:worker_threads') as { Worker: ThreadClass };
  const Original = threads.Worker;
  const withPreload = (argv: readonly string[]) => [...argv, '--require', preload];
  function WorkflowThread(filename: string | URL, options: WorkerOptions = {}): Thread {
    if (!/[\\/]workflow-worker-thread\.js$/.test(String(filename))) return new Original(filename, options);
    try {
      return new Original(filename, { ...options, execArgv: withPreload(options.execArgv ?? process.execArgv) });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
      return new Original(filename, { ...options, execArgv: withPreload([]) });
    }
  }
  threads.Worker = WorkflowThread as unknown as ThreadClass;
  try {
    return await create();
  } finally {
    threads.Worker = Original;
  }
}
