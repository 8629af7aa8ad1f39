/**
 * The compose file and the Dockerfile against the code they run, so neither drifts: services, pinned
 * images, healthchecks, restart policies, start order, the environment the app reads, the commands of
 * package.json. `docker-compose config` (Debian's docker-compose, installed by .ci/run) validates the file.
 */
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/messages';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envSchema } from '../../config/settings';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; restart?: string; healthcheck?: { test: unknown }; depends_on?: Record<string, { condition: string }>; environment?: Record<string, string>; volumes?: string[]; entrypoint?: string[] }>;
  volumes: Record<string, unknown>;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const services = compose.services;
/** What the program reads besides the schema: envconfig's Temporal variables and the container's health check. */
const READ_ELSEWHERE = ['TEMPORAL_NAMESPACE', 'HEALTHCHECK_PORT'];

test('the services a deployment needs, each with a healthcheck and a restart policy', () => {
  expect(Object.keys(services).sort()).toEqual(['api', 'mailpit', 'postgresql', 'setup', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
  for (const [name, s] of Object.entries(services)) {
    expect([name, Boolean(s.healthcheck?.test)]).toEqual([name, true]);
    expect([name, s.restart]).toEqual([name, expect.stringMatching(/^(unless-stopped|always|on-failure(:\d+)?)$/)]);
  }
});

test('images are pinned to versions: Temporal from its current images (server and admin-tools, not auto-setup), a UI with User Metadata', () => {
  const images = Object.values(services).map((s) => s.image).filter((i): i is string => Boolean(i));
  for (const image of images.filter((i) => !i.startsWith('escalation-service'))) expect(image).toMatch(/:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
  expect(images.some((i) => i.includes('auto-setup'))).toBe(false);
  const server = services.temporal.image!.split(':')[1];
  expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${server}`);
  expect(services['temporal-namespace'].image).toBe(`temporalio/admin-tools:${server}`);
  const [major, minor] = services['temporal-ui'].image!.split(':')[1].split('.').map(Number);
  expect(major * 1000 + minor).toBeGreaterThanOrEqual(2038); // User Metadata (summary, current details) shows from UI 2.38
  for (const file of services['temporal-schema'].entrypoint!.filter((a) => a.startsWith('/deploy/'))) expect(existsSync(join(ROOT, 'deploy', 'temporal', file.slice('/deploy/'.length)))).toBe(true);
});

test('each waits for what it needs: schema, then server, namespace, search attributes, then worker and API', () => {
  const after = (name: string) => Object.fromEntries(Object.entries(services[name].depends_on ?? {}).map(([k, v]) => [k, v.condition]));
  expect(after('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
  expect(after('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
  expect(after('temporal-namespace')).toEqual({ temporal: 'service_healthy' });
  expect(after('setup')).toEqual({ 'temporal-namespace': 'service_completed_successfully' });
  expect(after('worker')).toMatchObject({ setup: 'service_completed_successfully', mailpit: 'service_healthy' });
  expect(after('api')).toMatchObject({ setup: 'service_completed_successfully' });
  expect(after('temporal-ui')).toEqual({ temporal: 'service_healthy' });
  for (const s of Object.values(services)) for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(services)).toContain(dep);
});

test('the app runs the commands of package.json, with only the environment it reads, mail to Mailpit, data on a volume', () => {
  const script = (name: string) => pkg.scripts[name];
  expect(services.worker.command!.join(' ')).toBe(script('worker'));
  expect(services.api.command!.join(' ')).toBe(script('api'));
  expect(services.setup.command!.join(' ')).toBe(script('setup:temporal'));
  const known = new Set([...Object.keys(envSchema.shape), ...READ_ELSEWHERE]);
  for (const name of ['worker', 'api', 'setup']) {
    const env = services[name].environment!;
    expect([name, Object.keys(env).filter((k) => !known.has(k))]).toEqual([name, []]);
    expect(env.SMTP_URL).toMatch(/smtp:\/\/mailpit:1025/);
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services[name].volumes).toContain('appdata:/data');
    expect(env.DATA_DIR).toBe('/data');
  }
  expect(services.worker.environment!.HEALTHCHECK_PORT).toBe(services.worker.environment!.METRICS_PORT);
  expect(Object.keys(compose.volumes).sort()).toEqual(['appdata', 'pgdata']);
});

test('the Dockerfile: multi-stage on a supported Node LTS, production dependencies only, non-root, a healthcheck, every source folder', () => {
  const froms = [...dockerfile.matchAll(/^FROM\s+node:(\d+)[\w.-]*/gm)].map((m) => Number(m[1]));
  expect(froms.length).toBeGreaterThanOrEqual(2);
  for (const major of froms) expect(major % 2 === 0 && major >= 22).toBe(true); // even majors are the LTS lines; 20 is past its end
  expect(dockerfile).toMatch(/npm ci --omit=dev/);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*scripts\/healthcheck\.mjs/m);
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)!;
  expect((JSON.parse(cmd[1]) as string[]).join(' ')).toBe(pkg.scripts.api);
  const sourceDirs = readdirSync(ROOT).filter((d) => !d.startsWith('.') && !['node_modules', 'test', 'deploy'].includes(d) && statSync(join(ROOT, d)).isDirectory() && readdirSync(join(ROOT, d)).some((f) => /\.(ts|mjs)$/.test(f)));
  for (const dir of sourceDirs) expect([dir, dockerfile.includes(`COPY ${dir} ./${dir}`)]).toEqual([dir, true]);
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', '.tools']));
});

const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const haveCompose = dockerCompose.status === 0;
if (!haveCompose && process.env.CI) throw new Error('docker-compose is missing: .ci/run installs it (apt-get install docker-compose)');
(haveCompose ? test : test.skip)('docker-compose config accepts the file, and refuses to start without the secrets', () => {
  const run = (env: Record<string, string>) => spawnSync('docker-compose', ['config', '-q'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  const ok = run({ API_KEYS: 'admin:admin:0123456789abcdef', LINK_SECRET: '0123456789abcdef' });
  expect([ok.status, ok.stderr]).toEqual([0, '']);
  const missing = run({});
  expect(missing.status).not.toBe(0);
  expect(missing.stderr).toMatch(/set API_KEYS|set LINK_SECRET/);
});

test('the README names every search attribute a Temporal Cloud namespace must be given', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const key of ALL_SEARCH_ATTRIBUTES) expect([key.name, readme.includes(`\`${key.name}\``)]).toEqual([key.name, true]);
});
