/**
 * The API document is the API: Schemathesis (from PyPI, as scripts/install-tools.sh installs it) reads
 * /openapi.json of the real API — with the worker and a dev server behind it — and runs every phase
 * (examples, coverage, fuzzing, stateful) with every check, on a fixed seed within a bounded time. It
 * must find no failure. The rules the schema language cannot state are in test/api/schemathesis.toml,
 * each with its reason. POST /inbound/email (a raw message/rfc822 body, which no OpenAPI client
 * generates) is left to the suite's own tests (test/integration/replies.test.ts, test/api/properties.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYS, startSystem, type System } from '../helpers/system';

const ROOT = join(__dirname, '..', '..');
const SCHEMATHESIS = join(ROOT, '.tools', 'schemathesis');
const SEED = process.env.SCHEMATHESIS_SEED ?? '1';
/** Schemathesis's own budget, and the wait for it, a minute more. */
const MAX_SECONDS = 150;

let sys: System;
beforeAll(async () => {
  sys = await startSystem({
    linkRequestsPerMinute: 100_000,
    // A configured calendar: the document lists it as the only `calendar` an open may name.
    calendars: { emea: { name: 'emea', timezone: 'Europe/Berlin', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] } },
  });
}, 120_000);
afterAll(() => sys?.stop());

function schemathesis(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-m', 'schemathesis.cli', ...args], { cwd: ROOT, env: { ...process.env, PYTHONPATH: SCHEMATHESIS, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), (MAX_SECONDS + 60) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test(
  'Schemathesis, every phase and every check on a fixed seed, finds no request the API answers other than its document says',
  async () => {
    expect(existsSync(join(SCHEMATHESIS, 'schemathesis'))).toBe(true); // scripts/install-tools.sh installs it
    const { code, out } = await schemathesis([
      '--config-file', join(__dirname, 'schemathesis.toml'),
      'run', `${sys.base}/openapi.json`,
      '--header', `Authorization: Bearer ${KEYS.admin}`,
      '--checks', 'all',
      '--phases', 'examples,coverage,fuzzing,stateful',
      '--exclude-path', '/inbound/email',
      '--seed', SEED,
      '--max-examples', '60',
      '--max-time', String(MAX_SECONDS),
      '--generation-database', 'none',
      '--workers', '1',
      // Longer than the API's own bound on a read or an action (15 s, then 503): the API answers first.
      '--request-timeout', '30',
      '--no-color',
    ]);
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    writeFileSync(join(ROOT, '.data', 'schemathesis.txt'), out);
    const summary = out.slice(out.lastIndexOf('SUMMARY'));
    // Schemathesis closes as pytest does ("==== 2 warnings in 150.04s ===="), and CI reads such a line as
    // pytest's count of tests: none. Printed here without its rulers; the file keeps them.
    const unruled = (text: string) => text.replace(/^(\s*)=+ (.*?) =+\s*$/gm, '$1Schemathesis: $2');
    console.log(`Schemathesis (seed ${SEED}; the whole output in .data/schemathesis.txt):\n${unruled(summary)}`);
    if (code !== 0) console.log(unruled(out.slice(-20_000)));
    expect(summary).toMatch(/Test cases:\s+\d+ generated/);
    expect(summary).not.toMatch(/Failures:|Errors:/);
    expect(code).toBe(0);
  },
  (MAX_SECONDS + 120) * 1000,
);
