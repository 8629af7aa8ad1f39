import { bundleInChildProcess } from '../../worker/bundle';

// The bundle's success path is every saved history replaying on it (replay.test.ts) and every test that
// runs `npm run worker` or `npm start`. Here: a bundle that cannot be made fails the worker's start with
// the bundler's reason.
test('a workflow bundle that cannot be made rejects with the bundler’s reason', async () => {
  await expect(bundleInChildProcess('/nonexistent/workflows.ts')).rejects.toThrow(/^bundling the workflow code failed: .*nonexistent/s);
}, 120_000);
