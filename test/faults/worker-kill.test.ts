/**
 * Faults with real processes: workers are `npm run worker`'s program, killed with SIGKILL at a moment
 * the test chooses (a mail server and a Slack server that take a send and then never answer).
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { ParsedMail } from 'mailparser';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../../playbook';
import { ESCALATION_WORKFLOW, acknowledgeUpdate, getCaseQuery, type EscalationInput } from '../../workflows/messages';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { spawnProgram, waitUntil, writeConfig, type Proc } from '../helpers/processes';
import { startSlack, type SlackFixture } from '../helpers/slack';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';
import { devServerEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let smtp: SmtpFixture;
let slack: SlackFixture;
let client: Client;
const procs: Proc[] = [];
const taskQueue = uniqueId('faults');
let config: string;

beforeAll(async () => {
  [env, smtp, slack] = await Promise.all([devServerEnv(), startSmtp(), startSlack()]);
  client = new Client({ connection: env.connection, namespace: env.namespace });
  config = writeConfig({
    slack: { channel: 'C0CASES' },
    roster: { supportLead: { name: 'Lee Park', email: 'lee@vendor.example' }, engineering: { name: 'Eng on-call', email: 'oncall@vendor.example' }, csmManager: { name: 'Ana Ruiz', email: 'ana@vendor.example' } },
  });
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await Promise.all([smtp?.close(), slack?.close()]);
  await env?.teardown();
});

function worker(smtpUrl = smtp.url): Proc {
  const p = spawnProgram('worker/main.ts', {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtpUrl,
    SLACK_BOT_TOKEN: 'xoxb-good',
    SLACK_API_URL: slack.apiUrl,
    ESCALATION_CONFIG: config,
    EMAIL_FROM: 'escalations@vendor.example',
    LINK_SECRET: 'fault-test-link-secret-0123456789',
    DATA_DIR: '/tmp',
  });
  procs.push(p);
  return p;
}

async function openCase(caseId: string) {
  const input = caseInput();
  return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
    taskQueue,
    workflowId: workflowIdFor(caseId),
    args: [{ caseId, input, policy: DEFAULT_POLICY, rulesVersion: RULES_VERSION }],
    staticSummary: caseSummary(input),
  });
}

test('a worker killed mid-send: the email is sent again with the same Message-ID and the Slack thread is not started twice', async () => {
  const caseId = uniqueId('kill');
  let heldMail: ParsedMail | undefined;
  let slackHeld = false;
  smtp.state.holdWhen = (m) => !heldMail && String(m.messageId).includes(caseId);
  smtp.state.onHeld = (m) => (heldMail = m);
  slack.state.holdPostsWhen = (m) => !slackHeld && m.metadata?.event_payload.case_id === caseId;
  slack.state.onHeld = () => (slackHeld = true);

  const first = worker();
  await first.waitFor(/worker running/);
  // Its workflow cache is bounded (WORKER_MAX_CACHED_WORKFLOWS' default), not sized from the machine's memory.
  expect(first.output()).toMatch(/"maxCachedWorkflows":500,"stickyTimeoutMs":10000/);
  // Its workflow thread's heap is bounded (WORKER_WORKFLOW_HEAP_MB, 512, plus V8's young space), not V8's ~4 GB.
  const heapLimit = Number(/"workflowThreadHeapLimitMb":(\d+)/.exec(first.output())?.[1]);
  expect(heapLimit).toBeGreaterThanOrEqual(512);
  expect(heapLimit).toBeLessThan(640);
  const h = await openCase(caseId);
  // The case's first email and its first Slack post have reached their servers; neither has answered.
  await waitUntil(() => heldMail !== undefined && slackHeld, (x) => x, 'both sends held');
  const second = worker();
  await second.waitFor(/worker running/);

  await first.kill('SIGKILL');
  const killedAt = Date.now();
  smtp.state.holdWhen = undefined;
  slack.state.holdPostsWhen = undefined;
  slack.releaseHeld();

  const resent = await waitUntil(
    () => smtp.received.find((r) => r.mail.messageId === heldMail!.messageId),
    (r) => r !== undefined,
    'the held email sent again',
    60_000,
  );
  const resendSeconds = (smtp.arrived.find((a) => a.mail.messageId === heldMail!.messageId && a.at > killedAt)!.at - killedAt) / 1000;
  console.log(`worker SIGKILL → the lost email sent again in ${resendSeconds.toFixed(1)} s (heartbeat timeout 5 s + retry 1 s)`);
  expect(resent!.mail.subject).toBe(heldMail!.subject);

  const c = await waitUntil(() => h.query(getCaseQuery), (x) => x.messages.every((m) => m.status === 'sent'), 'every message of the case sent', 60_000);
  // The lost attempts were found by their missed heartbeats, not by the send's whole timeout.
  const history = await h.fetchHistory();
  const retried = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes).filter((a) => a && (a.attempt ?? 1) > 1);
  expect(retried.length).toBeGreaterThanOrEqual(2); // the email and the Slack post
  for (const a of retried) expect(a!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  expect(slack.roots(caseId)).toHaveLength(1);
  expect(c.messages.filter((m) => m.channel === 'slack')).toHaveLength(1);
  // The same email twice at the server (the lost attempt and the retry), one Message-ID: mail clients show one.
  expect(new Set(smtp.arrived.filter((a) => String(a.mail.messageId).includes(caseId)).map((a) => a.mail.messageId)).size).toBe(
    c.messages.filter((m) => m.channel === 'email').length,
  );

  // The surviving worker carries on: an acknowledgement goes out.
  await h.executeUpdate(acknowledgeUpdate, { args: [{ nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString(), by: 'sam' }] });
  await waitUntil(() => smtp.received.filter((r) => String(r.mail.messageId).includes(caseId)).length, (n) => n >= 2, 'the acknowledgement email');
}, 180_000);

test('the mail server down and back: the email waits and arrives once; Slack answering 429 holds a post for its Retry-After, once', async () => {
  const running = worker();
  await running.waitFor(/worker running/);
  const caseId = uniqueId('down');
  const port = smtp.port;
  await smtp.close();
  slack.state.retryAfterSeconds = 2;
  slack.state.rateLimitNext = 1;
  const h = await openCase(caseId);
  const limited = await waitUntil(() => slack.calls.find((c) => c.status === 429), (c) => c !== undefined, 'a 429 from Slack');
  const failing = await waitUntil(() => h.query(getCaseQuery), (c) => c.messages.some((m) => m.channel === 'email' && m.status === 'pending'), 'an email waiting');
  await new Promise((r) => setTimeout(r, 2_000)); // down for a while: sends fail and are retried
  smtp = await startSmtp({ port });
  const c = await waitUntil(() => h.query(getCaseQuery), (x) => x.messages.every((m) => m.status === 'sent'), 'every message sent after the mail server came back', 90_000);
  expect(failing.stage).toBe('acknowledge');
  const mine = smtp.received.filter((r) => String(r.mail.messageId).includes(caseId));
  expect(mine.map((r) => r.mail.messageId)).toEqual([...new Set(mine.map((r) => r.mail.messageId))]);
  expect(mine).toHaveLength(c.messages.filter((m) => m.channel === 'email').length);
  const posted = slack.calls.find((x) => x.method === 'chat.postMessage' && x.at > limited!.at && x.status === 200)!;
  expect(posted.at - limited!.at).toBeGreaterThanOrEqual(2_000);
  expect(slack.roots(caseId)).toHaveLength(1);
  expect(slack.calls.filter((x) => x.status === 429)).toHaveLength(1);
}, 180_000);
