/** The child of worker/bundle.ts: bundles the workflow code, sends it to its parent, exits. */
import { bundleWorkflowCode } from '@temporalio/worker';
import { QUIET_BUNDLER_LOGGER, WORKFLOW_BUNDLE_SOURCE } from './workflow-source';

process.on('disconnect', () => process.exit(0)); // its parent is gone: nobody to send to

bundleWorkflowCode({ ...WORKFLOW_BUNDLE_SOURCE, workflowsPath: process.argv[2] ?? WORKFLOW_BUNDLE_SOURCE.workflowsPath, logger: QUIET_BUNDLER_LOGGER }).then(
  (b) => process.send!({ code: b.code }, () => process.disconnect()),
  (err: Error) => process.send!({ error: err.message }, () => process.disconnect()),
);
