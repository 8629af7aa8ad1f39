import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface Proc {
  proc: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** Resolves once it printed a line matching `pattern` (bounded). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs one of the project's programs (`worker/main.ts`, `api/main.ts`) as a real process, the way `npm run` does. */
export function spawnProgram(program: string, env: Record<string, string>, nodeArgs: string[] = [], args: string[] = []): Proc {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', program, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(out)) w.resolve();
      else waiters.push(w);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    output: () => out,
    waitFor(pattern, timeoutMs = 90_000) {
      if (pattern.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${program} never printed ${pattern}; it printed:\n${out.slice(-2000)}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        exited.then(() => reject(new Error(`${program} exited before printing ${pattern}:\n${out.slice(-2000)}`)), () => undefined);
      });
    },
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Runs one of the project's programs to its end: its exit code and everything it printed. */
export async function runToExit(program: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = spawnProgram(program, env);
  const code = await new Promise<number | null>((r) => (p.proc.exitCode !== null ? r(p.proc.exitCode) : p.proc.once('exit', (c) => r(c))));
  return { code, out: p.output() };
}

/** An escalation config file for the processes: the Slack channel and a roster of local addresses. */
export function writeConfig(config: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'escalation-config-'));
  const file = join(dir, 'escalation.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Polls until `pred` holds; fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(read: () => Promise<T> | T, pred: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (pred(last)) return last;
    } catch {
      // not there yet (a worker starting, a server restarting)
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port nobody listens on right now (on loopback). */
export { freePort, portIsFree } from '../../config/ports';
