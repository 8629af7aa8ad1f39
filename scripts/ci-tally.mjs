// Adds up jest's --json result files and prints the one closing line CI reads for the count of tests:
// "N passed, N failed" alone on the line (", N skipped" when some were skipped). Nothing else in the run
// may look like a known runner's closing line (test/api/schemathesis.test.ts rewrites Schemathesis'
// pytest-like "==== 2 warnings in 150.04s ===="). Exits 1 when a file is missing or counts no test, so a
// run that executed nothing cannot pass as green.
import { readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0;
for (const file of process.argv.slice(2)) {
  let r;
  try { r = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    console.error(`ci-tally: no jest results in ${file}: ${e.message}`);
    process.exit(1);
  }
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
if (passed + failed === 0) { console.error('ci-tally: no test was executed'); process.exit(1); }
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
