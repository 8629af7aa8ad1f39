import nodemailer from 'nodemailer';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openBody } from '../helpers/system';
import { freePort, portIsFree, waitUntil } from '../helpers/processes';
import { startSlack } from '../helpers/slack';

const root = resolve(__dirname, '..', '..');

/** `npm start`'s program, as a user runs it, with its own data folder and ports. */
async function start(env: Record<string, string>, logLevel = 'warn'): Promise<{ child: ChildProcess; output: () => string }> {
  // Its own process group, so Ctrl-C can be sent as a terminal sends it: to the whole group.
  // As package.json runs it: one node process with tsx as a loader (tsx's CLI wrapper would SIGKILL
  // its child if it did not acknowledge a signal within 30 ms).
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/start.ts'], { cwd: root, detached: true, env: { ...process.env, ...env, LOG_LEVEL: logLevel } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not come up:\n${out}`)), 90_000);
    const check = () => {
      if (out.includes('Ctrl-C stops everything')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => fail(new Error(`npm start exited with ${code}:\n${out}`)));
  });
  return { child, output: () => out };
}

/** Ctrl-C (SIGINT to the group, as a terminal sends it) or the terminal closed (SIGHUP to the group). */
async function stop(child: ChildProcess, signal: 'SIGINT' | 'SIGHUP' = 'SIGINT'): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  process.kill(-child.pid!, signal);
  return exited;
}

/** The bash block under "## Try it" in the README. */
function tryItScript(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split('## Try it')[1];
  return /```bash\n([\s\S]*?)```/.exec(section)![1];
}

test('npm start brings everything up, the README "Try it" steps walk a case to closed, Ctrl-C stops cleanly and a second start finds open cases', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'esc-start-'));
  const env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
  };
  delete process.env.TEMPORAL_ADDRESS;
  delete process.env.API_KEYS;
  const api = `http://localhost:${env.PORT}`;

  const first = await start(env);
  const key = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).adminKey as string;
  expect(first.output()).toContain(`Admin key    ${key}`);
  expect(first.output()).toContain(`Temporal UI  http://localhost:${env.TEMPORAL_UI_PORT}`);
  // The embedded server's database runs with write-ahead logging (DEV_SERVER_SQLITE_PRAGMAS): its log file is there.
  expect(existsSync(join(dataDir, 'temporal.db-wal'))).toBe(true);

  // Its stdin is not a socket: bash, started with a socket for stdin and no SHLVL, takes itself for an ssh
  // session and sources /etc/bash.bashrc, which fails under -u.
  const tryIt = spawnSync('bash', ['-euo', 'pipefail', '-c', tryItScript()], { env: { ...process.env, API: api, KEY: key }, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  expect(tryIt.stderr).toBe('');
  expect(tryIt.status).toBe(0);
  // One line per step; the case id is readable: the Idempotency-Key's slug and a part of its hash.
  const lines = tryIt.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^case try-it-\d+-[0-9a-f]{10}$/);
  expect(lines).toContain('acknowledge → investigate');
  expect(lines.at(-1)).toMatch(/^try-it-\d+-[0-9a-f]{10}: closed \(closed\)$/);

  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const opened = await fetch(`${api}/escalations`, { method: 'POST', headers: auth, body: JSON.stringify(openBody()) });
  expect(opened.status).toBe(201);
  const { id, temporalUiUrl } = (await opened.json()) as { id: string; temporalUiUrl: string };
  // The case links to its workflow in the dev server's UI.
  expect(temporalUiUrl).toBe(`http://localhost:${env.TEMPORAL_UI_PORT}/namespaces/default/workflows/escalation-${id}`);
  const outbox = readFileSync(join(dataDir, 'outbox', 'index.jsonl'), 'utf8');
  expect(outbox).toContain("Re: Data sync failing — We're on it");

  const before = first.output().length;
  expect(await stop(first.child)).toBe(0);
  // A quiet Ctrl-C with a case open: at LOG_LEVEL=warn, nothing at all from the parts shutting down.
  const stopping = first.output().slice(before);
  expect(stopping).not.toMatch(/WARN|network dial error|"level":(40|50)/);
  expect(stopping.trim()).toBe('');
  // The embedded dev server (in a session of its own, so the Ctrl-C reached npm start alone) went with it.
  expect(await portIsFree(Number(env.TEMPORAL_DEV_PORT))).toBe(true);

  // Started again with the built-in SMTP receiver: a customer's reply arrives with no mail provider.
  const smtpPort = await freePort();
  const second = await start({ ...env, INBOUND_SMTP_PORT: String(smtpPort) }, 'info');
  try {
    // At info, the worker says what it runs with: its cache and sticky queue, its workflow thread's heap limit (512 MB by default) and whether workflow stack traces are on (off by default).
    await waitUntil(() => second.output(), (o) => o.includes('"worker running"'), 'the worker running line', 10_000);
    const running = second.output().split('\n').filter((l) => l.includes('"worker running"')).map((l) => JSON.parse(l) as { maxCachedWorkflows: number; stickyTimeoutMs: number; namespace: string; workflowThreadHeapLimitMb: number; workflowStackTraces: boolean });
    expect(running).toHaveLength(1);
    expect(running[0].maxCachedWorkflows).toBe(500);
    // The same fields as `npm run worker`'s line (one helper makes both workers and both lines).
    expect(running[0]).toMatchObject({ stickyTimeoutMs: 10_000, namespace: 'default' });
    expect(running[0].workflowThreadHeapLimitMb).toBeGreaterThanOrEqual(512);
    expect(running[0].workflowThreadHeapLimitMb).toBeLessThanOrEqual(640);
    expect(running[0].workflowStackTraces).toBe(false);
    expect(second.output()).toContain(`Replies      smtp://localhost:${smtpPort}`);
    const got = await fetch(`${api}/escalations/${id}`, { headers: auth });
    expect(((await got.json()) as { stage: string }).stage).toBe('acknowledge');
    const ack = await fetch(`${api}/escalations/${id}/acknowledge`, { method: 'POST', headers: auth, body: '{}' });
    expect(ack.status).toBe(200);
    const mail = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    await mail.sendMail({ from: 'pat@customer.example', to: `escalations+${id}@localhost`, subject: 'Re: sync', text: 'Thanks, the sync ran fine last night.' });
    const view = (await (await fetch(`${api}/escalations/${id}`, { headers: auth })).json()) as { replies: { text: string }[] };
    expect(view.replies.map((r) => r.text)).toEqual(['Thanks, the sync ran fine last night.']);
  } finally {
    // The terminal closed: its dev server goes too.
    expect(await stop(second.child, 'SIGHUP')).toBe(0);
    expect(await portIsFree(Number(env.TEMPORAL_DEV_PORT))).toBe(true);
  }
}, 240_000);

test.each(['PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'INBOUND_SMTP_PORT'])('a taken %s: npm start says which variable and exits non-zero within seconds', async (variable) => {
  const ports = { PORT: await freePort(), TEMPORAL_DEV_PORT: await freePort(), TEMPORAL_UI_PORT: await freePort(), INBOUND_SMTP_PORT: await freePort() };
  const taken = (ports as Record<string, number>)[variable];
  const squatter = createServer().listen(taken, variable === 'PORT' || variable === 'INBOUND_SMTP_PORT' ? undefined : '127.0.0.1');
  await new Promise((r) => squatter.once('listening', r));
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'escalation-ports-'));
    const began = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'api/start.ts'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`npm start did not exit with ${variable} taken:\n${out}`));
      }, 60_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        r(c);
      });
    });
    expect(code).not.toBe(0);
    expect(out).toContain(`${variable}=${taken} cannot be used`);
    expect(out).not.toContain('Ctrl-C stops everything');
    console.log(`${variable} taken: npm start exited ${code} after ${((Date.now() - began) / 1000).toFixed(1)} s`);
  } finally {
    squatter.close();
  }
});

test("the README's example config: two teams with their own calendars, windows, people and channels in one npm start", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'esc-teams-'));
  const slack = await startSlack();
  const env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    ESCALATION_CONFIG: join(root, 'config/examples/escalations.yaml'),
    SLACK_BOT_TOKEN: 'xoxb-good',
    SLACK_API_URL: slack.apiUrl,
  };
  delete process.env.TEMPORAL_ADDRESS;
  delete process.env.API_KEYS;
  const api = `http://localhost:${env.PORT}`;
  const run = await start(env);
  try {
    const key = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).adminKey as string;
    const open = async (team?: string) => {
      const r = await fetch(`${api}/escalations`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(openBody({ severity: 'high', ...(team ? { team } : {}), customer: { ...openBody().customer, id: `cust-${team ?? 'none'}` } })) });
      expect(r.status).toBe(201);
      return (await r.json()) as { id: string; team: string; calendar: string; policy: { acknowledgeWithin: string; respondWithin: { high: string } } };
    };
    const [amer, emea] = [await open(), await open('emea')];
    // defaultTeam: amer; each case pins its team's calendar and windows.
    expect([amer.team, amer.calendar, amer.policy.acknowledgeWithin, amer.policy.respondWithin.high]).toEqual(['amer', 'us-east', '1h', '4h']);
    expect([emea.team, emea.calendar, emea.policy.acknowledgeWithin, emea.policy.respondWithin.high]).toEqual(['emea', 'emea', '30m', '2h']);
    // Each case's opening alert reaches its own team's people (the outbox) and its own channel.
    const alertTo = (id: string) => {
      const lines = existsSync(join(dataDir, 'outbox', 'index.jsonl')) ? readFileSync(join(dataDir, 'outbox', 'index.jsonl'), 'utf8').trim().split('\n') : [];
      return lines.map((l) => JSON.parse(l) as { caseId?: string; to?: string[]; subject?: string; messageId?: string }).filter((m) => JSON.stringify(m).includes(id) && m.subject?.startsWith('[ESCALATION'));
    };
    await waitUntil(() => [alertTo(amer.id).length, alertTo(emea.id).length, slack.roots(amer.id).length, slack.roots(emea.id).length], (n) => n.every((x) => x > 0), "each team's opening alert and root post", 30_000);
    // A High case involves support: each team's own.
    expect(alertTo(amer.id).map((m) => m.to)).toEqual([['sam@vendor.example', 'support-amer@example.com']]);
    expect(alertTo(emea.id).map((m) => m.to)).toEqual([['sam@vendor.example', 'support-emea@example.com']]);
    expect([slack.roots(amer.id)[0].channel, slack.roots(emea.id)[0].channel]).toEqual(['C0AMER0001', 'C0EMEA0001']);
  } finally {
    expect(await stop(run.child)).toBe(0);
    await slack.close();
  }
}, 180_000);
