/**
 * The worker evaluates zod, the payload schemas and the playbook once per workflow thread instead of
 * once per case (worker/workflow-source.ts preloads workflows/validation.ts). The memory it saves is a
 * figure of `npm run bench` (part `heap`); these checks keep the preload real.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_SOURCE } from '../../worker/workflow-source';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
let code = '';
beforeAll(async () => {
  code = (await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_SOURCE, logger: quiet })).code;
}, 120_000);

/** The bundle's modules that require `id`. */
function requirersOf(id: string): string[] {
  const starts = [...code.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => ({ name: m[1], at: m.index! }));
  const needle = `"${id}")`;
  return starts.filter((s, i) => code.slice(s.at, starts[i + 1]?.at ?? code.length).includes(needle) && s.name !== id).map((s) => s.name);
}

test('the bundle preloads the validation module (webpack keeps the require: it has effects of its own)', () => {
  const preload = /function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
  expect(preload).toContain('"./workflows/validation.ts"');
});

test('zod and the schemas are reached only through the preloaded module', () => {
  // The action registry takes zod from the field kit: it imports zod's types only.
  expect(requirersOf('./node_modules/zod/index.cjs').sort()).toEqual(['./playbook/inputs.ts', './workflows/schemas.ts']);
  expect(requirersOf('./playbook/inputs.ts')).toEqual(['./workflows/schemas.ts']);
  expect(requirersOf('./workflows/schemas.ts')).toEqual(['./workflows/validation.ts']);
});
