/**
 * The escalation workflow's code, as every worker, replayer and test bundles it: one place, so what the
 * tests and the replay check run is what the workers run.
 *
 * `preloadModules`: evaluated once per workflow thread and shared by every case, instead of once per
 * case. Only modules that keep no state of a case belong here (see workflows/validation.ts).
 */
const PRELOADED = [require.resolve('../workflows/validation')];

export const WORKFLOW_SOURCE = {
  workflowsPath: require.resolve('../workflows'),
  bundlerOptions: { preloadModules: PRELOADED },
};

/** The same, as `bundleWorkflowCode` takes it. */
export const WORKFLOW_BUNDLE_SOURCE = { workflowsPath: WORKFLOW_SOURCE.workflowsPath, preloadModules: PRELOADED };

/** The bundler's logger: its errors, not its progress (webpack's chatter at INFO on every start). */
export const QUIET_BUNDLER_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;
