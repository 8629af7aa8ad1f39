/**
 * `npm run test:cluster`: the suites that need a Temporal server, run against the PostgreSQL cluster that
 * scripts/test-cluster.ts starts (TEMPORAL_TEST_ADDRESS; each file gets a namespace of its own), and the
 * cluster's own tests (test/cluster: two workers and two APIs as processes).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: [
    '<rootDir>/test/cluster/**/*.test.ts',
    '<rootDir>/test/api/api.test.ts',
    '<rootDir>/test/integration/system.test.ts',
    '<rootDir>/test/faults/worker-kill.test.ts',
    '<rootDir>/test/browser/board.test.ts',
  ],
};
