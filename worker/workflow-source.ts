/**
 * The escalation workflow's code, as every worker, replayer and test bundles it: one place, so what the
 * tests and the replay check run is what the workers run.
 */
export const WORKFLOW_SOURCE = {
  workflowsPath: require.resolve('../workflows'),
};
