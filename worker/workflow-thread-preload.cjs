'use strict';
/**
 * Loaded first in each workflow thread of a worker whose workflow stack traces are off (the default,
 * WORKER_STACK_TRACES; worker/workflow-threads.ts starts the threads with it).
 *
 * The Temporal SDK records, for every promise a workflow creates, a source-mapped stack trace, to answer
 * the `__stack_trace` query (the Temporal UI's "Stack Trace" tab). It does so in a V8 promise hook that
 * builds an Error and maps each of its frames through the bundle's source map. In a burst of 5,000
 * deadlines that hook was about 30% of the workflow thread's CPU (`npm run bench`, BENCHMARKS.md), and
 * each cached case kept the stacks of its pending promises. The SDK has no option for it: its hook is
 * installed by `GlobalHandlers.install()` when the thread builds its workflow context, so the thread
 * turns it off before that. Errors thrown in workflows keep their source-mapped stacks (that part of
 * the SDK's handlers is untouched); the query answers "Workflow stack traces are not enabled on this
 * worker". test/workflow/stack-traces.test.ts checks both settings against a real worker.
 */
const { GlobalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared');

if (typeof GlobalHandlers?.prototype?.setPromiseHook === 'function') {
  GlobalHandlers.prototype.setPromiseHook = function noStackTraceHook() {};
} else {
  // A later SDK moved it: stack traces stay on (slower, never wrong), and the test above fails.
  process.emitWarning('workflow stack traces could not be turned off: this SDK has no GlobalHandlers.setPromiseHook', { code: 'ESCALATION_STACK_TRACES' });
}
