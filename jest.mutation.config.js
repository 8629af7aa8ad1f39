/**
 * The unit tests alone, for `npm run mutation` (stryker.config.json): the playbook's rules are pure, so
 * their tests need no Temporal server, no worker and no network.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  // The tests of the playbook's rules (the rest of test/unit checks config, ports, deploy files and the
  // API document, none of which a rule file's mutant can change).
  testMatch: ['case-core', 'case-machine', 'business-time', 'playbook-tables', 'playbook-journal', 'rule-edges', 'registry', 'templates', 'format'].map((name) => `<rootDir>/test/unit/${name}.test.ts`),
  // No Temporal runtime is made by the unit tests; the quiet-runtime setup would start one per file.
  setupFiles: [],
};
