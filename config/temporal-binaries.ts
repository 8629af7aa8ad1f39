import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/**
 * Where the Temporal dev server (`temporal`) and the time-skipping test server come from, in order:
 * an explicit path in the environment, the PATH, the project's .tools folder (scripts/install-tools.sh),
 * and last the SDK's own download, which needs the internet.
 */
export type ServerExecutable =
  | { type: 'existing-path'; path: string }
  | { type: 'cached-download'; downloadDir?: string };

const projectRoot = resolve(__dirname, '..');
const toolsBin = join(projectRoot, '.tools', 'pip', 'bin');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function find(binary: string, envVar: string, env: NodeJS.ProcessEnv, tools: string): ServerExecutable {
  const explicit = env[envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${envVar}=${explicit} is not an executable file`);
    return { type: 'existing-path', path: explicit };
  }
  const found = findOnPath(binary, env.PATH) ?? [join(tools, binary)].find(isExecutable);
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

/** The Temporal CLI, whose `server start-dev` is the dev server with the Web UI. */
export function devServerExecutable(env: NodeJS.ProcessEnv = process.env, tools = toolsBin): ServerExecutable {
  return find('temporal', 'TEMPORAL_CLI_PATH', env, tools);
}

/** The time-skipping test server used by workflow tests. */
export function testServerExecutable(env: NodeJS.ProcessEnv = process.env, tools = toolsBin): ServerExecutable {
  return find('temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH', env, tools);
}

/**
 * The embedded dev server's SQLite pragmas (`npm start`): write-ahead logging with full sync and a busy
 * timeout, the values of Temporal's own SQLite config template (common/config/config_template_embedded.yaml),
 * durable at every commit. Without them the dev server keeps SQLite's rollback journal.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=2', 'busy_timeout=10000'] as const;
