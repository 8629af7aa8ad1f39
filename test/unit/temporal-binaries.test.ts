import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devServerExecutable, testServerExecutable } from '../../config/temporal-binaries';

const dir = mkdtempSync(join(tmpdir(), 'bin-'));
const exe = (name: string) => {
  const p = join(dir, name);
  writeFileSync(p, '#!/bin/sh\n');
  chmodSync(p, 0o755);
  return p;
};

test('an explicit path wins, then the PATH', () => {
  const explicit = exe('my-temporal');
  const onPath = exe('temporal');
  expect(devServerExecutable({ TEMPORAL_CLI_PATH: explicit, PATH: dir })).toEqual({ type: 'existing-path', path: explicit });
  expect(devServerExecutable({ PATH: dir })).toEqual({ type: 'existing-path', path: onPath });
});

test('an explicit path that is not executable is an error, not a silent fallback', () => {
  expect(() => testServerExecutable({ TEMPORAL_TEST_SERVER_PATH: join(dir, 'missing') })).toThrow(/not an executable/);
});

test("then the project's .tools, and last the SDK's own download", () => {
  const tools = mkdtempSync(join(tmpdir(), 'tools-'));
  expect(testServerExecutable({ PATH: '' }, tools)).toEqual({ type: 'cached-download' });
  const installed = join(tools, 'temporal-test-server');
  writeFileSync(installed, '#!/bin/sh\n');
  chmodSync(installed, 0o755);
  expect(testServerExecutable({ PATH: '' }, tools)).toEqual({ type: 'existing-path', path: installed });
});
