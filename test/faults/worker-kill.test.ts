/**
 * Faults with real processes: workers are `npm run worker`'s program, killed with SIGKILL at a moment
 * the test chooses (a mail server and a Slack server that take a send and then never answer).
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { ParsedMail } from 'mailparser';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor } from '../../playbook';
import { ACTION_UPDATES, ESCALATION_WORKFLOW, getCaseQuery, type EscalationInput } from '../../workflows/messages';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { faultConfig, spawnFaultWorker } from '../helpers/fault-worker';
import { waitUntil, type Proc } from '../helpers/processes';
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
  config = faultConfig();
}, 120_000);
// Each test's workers end with it, whatever it asserted: one test's failure never leaves a worker behind
// to take the next test's tasks.
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await Promise.all([smtp?.close(), slack?.close()]);
  await env?.teardown();
});

function worker(smtpUrl = smtp.url, slackUrl = slack.apiUrl): Proc {
  const p = spawnFaultWorker({ env, taskQueue, smtpUrl, slackUrl, config });
  procs.push(p);
  return p;
}

async function openCase(caseId: string, rulesVersion = RULES_VERSION) {
  const input = caseInput();
  return client.workflow.start<(p: EscalationInput) => Promise<unknown>>(ESCALATION_WORKFLOW, {
    taskQueue,
    workflowId: workflowIdFor(caseId),
    args: [{ caseId, input, policy: DEFAULT_POLICY, rulesVersion }],
    staticSummary: caseSummary(input),
  });
}

/** Holds the case's first email and its first Slack post at their servers, unanswered. */
function holdFirstSends(caseId: string) {
  const held: { mail?: ParsedMail; slack: boolean } = { slack: false };
  smtp.state.holdWhen = (m) => !held.mail && String(m.messageId).includes(caseId);
  smtp.state.onHeld = (m) => (held.mail = m);
  slack.state.holdPostsWhen = (m) => !held.slack && m.metadata?.event_payload.case_id === caseId;
  slack.state.onHeld = () => (held.slack = true);
  return held;
}

function release() {
  smtp.state.holdWhen = undefined;
  slack.state.holdPostsWhen = undefined;
  slack.releaseHeld();
}

/** What must hold once the killed worker's sends were taken over: each email once per Message-ID, one thread. */
async function survivedTheKill(caseId: string, h: Awaited<ReturnType<typeof openCase>>, heldMail: ParsedMail, killedAt: number, what: string) {
  const resent = await waitUntil(
    () => smtp.received.find((r) => r.mail.messageId === heldMail.messageId),
    (r) => r !== undefined,
    'the held email sent again',
    60_000,
  );
  const resendSeconds = (smtp.arrived.find((a) => a.mail.messageId === heldMail.messageId && a.at > killedAt)!.at - killedAt) / 1000;
  console.log(`worker SIGKILL → the lost email sent again in ${resendSeconds.toFixed(1)} s (${what})`);
  expect(resent!.mail.subject).toBe(heldMail.subject);
  const c = await waitUntil(() => h.query(getCaseQuery), (x) => x.messages.every((m) => m.status === 'sent'), 'every message of the case sent', 60_000);
  expect(slack.roots(caseId)).toHaveLength(1);
  expect(c.messages.filter((m) => m.channel === 'slack')).toHaveLength(1);
  // The same email twice at the server (the lost attempt and the retry), one Message-ID: mail clients show one.
  expect(new Set(smtp.arrived.filter((a) => String(a.mail.messageId).includes(caseId)).map((a) => a.mail.messageId)).size).toBe(
    c.messages.filter((m) => m.channel === 'email').length,
  );
  return c;
}

test('a worker killed mid-send (rules 4, sends as activities): the email is sent again with the same Message-ID and the Slack thread is not started twice', async () => {
  const caseId = uniqueId('kill');
  const held = holdFirstSends(caseId);

  const first = worker();
  await first.waitFor(/worker running/);
  // Its workflow cache is bounded (WORKER_MAX_CACHED_WORKFLOWS' default), not sized from the machine's memory.
  expect(first.output()).toMatch(/"maxCachedWorkflows":500,"stickyTimeoutMs":10000/);
  // Its workflow thread's heap is bounded (WORKER_WORKFLOW_HEAP_MB, 512, plus V8's young space), not V8's ~4 GB.
  const heapLimit = Number(/"workflowThreadHeapLimitMb":(\d+)/.exec(first.output())?.[1]);
  expect(heapLimit).toBeGreaterThanOrEqual(512);
  expect(heapLimit).toBeLessThan(640);
  const h = await openCase(caseId, 4);
  // The case's first email and its first Slack post have reached their servers; neither has answered.
  await waitUntil(() => held.mail !== undefined && held.slack, (x) => x, 'both sends held');
  // Killed at once, while its sends are held: were the kill to wait for another worker's start, a slow
  // start (a loaded machine) could outlast the mail client's own socket timeout (30 s) and fail the
  // attempt before the kill, and the retry would not be the one this test is about.
  await first.kill('SIGKILL');
  const killedAt = Date.now();
  release();
  const second = worker();
  await second.waitFor(/worker running/);
  const c = await survivedTheKill(caseId, h, held.mail!, killedAt, `heartbeat timeout 5 s + retry 1 s; the next worker running ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  expect(c.rulesVersion).toBe(4);
  // The lost attempts were found by their missed heartbeats, not by the send's whole timeout.
  const history = await h.fetchHistory();
  const retried = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes).filter((a) => a && (a.attempt ?? 1) > 1);
  expect(retried.length).toBeGreaterThanOrEqual(2); // the email and the Slack post
  for (const a of retried) expect({ attempt: a!.attempt, lastFailure: a!.lastFailure?.message, timeoutType: a!.lastFailure?.timeoutFailureInfo?.timeoutType }).toMatchObject({ timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT });

  // The surviving worker carries on: an acknowledgement goes out.
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString(), by: 'sam' }] });
  await waitUntil(() => smtp.received.filter((r) => String(r.mail.messageId).includes(caseId)).length, (n) => n >= 2, 'the acknowledgement email');
}, 180_000);

test('a worker killed mid-send (rules 5, sends tried locally): its workflow task runs again on the other worker; the email goes again with the same Message-ID and the Slack post is found, not posted twice', async () => {
  const caseId = uniqueId('kill5');
  const held = holdFirstSends(caseId);
  // Two workers, each calling Slack by its own URL: the held post names the worker that runs the case.
  const workers = { one: worker(smtp.url, slack.apiUrlVia('one')), two: worker(smtp.url, slack.apiUrlVia('two')) };
  await Promise.all(Object.values(workers).map((w) => w.waitFor(/worker running/)));
  const h = await openCase(caseId, 5);
  await waitUntil(() => held.mail !== undefined && held.slack, (x) => x, 'both sends held');
  const via = slack.calls.find((c) => c.method === 'chat.postMessage' && (c.args.metadata as { event_payload?: { case_id?: string } } | undefined)?.event_payload?.case_id === caseId)?.via;
  expect(via === 'one' || via === 'two').toBe(true);
  // Killed within the local try's bound (QUICK_SEND_BOUND, 5 s): the sends die with the worker, untold.
  await workers[via as 'one' | 'two'].kill('SIGKILL');
  const killedAt = Date.now();
  release();
  const c = await survivedTheKill(caseId, h, held.mail!, killedAt, 'workflow task timeout 10 s, then the local tries again');
  expect(c.rulesVersion).toBe(5);
  // The lost tries were found by the workflow task's timeout; the other worker tried them again, locally.
  const events = (await h.fetchHistory()).events ?? [];
  expect(events.some((e) => e.workflowTaskTimedOutEventAttributes)).toBe(true);
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
  // The retried post looked for itself in the channel, found the held one and did not post again.
  const surviving = via === 'one' ? 'two' : 'one';
  expect(slack.calls.filter((x) => x.via === surviving && x.method === 'conversations.history').length).toBeGreaterThanOrEqual(1);

  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString(), by: 'sam' }] });
  await waitUntil(() => smtp.received.filter((r) => String(r.mail.messageId).includes(caseId)).length, (n) => n >= 2, 'the acknowledgement email');
}, 180_000);

test("a worker killed after a customer's email reached its last line (rules 6): not sent again; recorded sent but not confirmed, and the CSM told on Slack", async () => {
  const caseId = uniqueId('kill6');
  const first = worker();
  await first.waitFor(/worker running/);
  const h = await openCase(caseId, 6);
  await waitUntil(() => h.query(getCaseQuery), (c) => c.messages.length > 0 && c.messages.every((m) => m.status === 'sent'), 'the opening sent');
  // The acknowledgement's whole message reaches the mail server, which never answers.
  let held: ParsedMail | undefined;
  smtp.state.holdWhen = (m) => !held && String(m.messageId).includes(caseId) && JSON.stringify(m.to).includes('dana@acme.example');
  smtp.state.onHeld = (m) => (held = m);
  await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: new Date(Date.now() + 7_200_000).toISOString(), by: 'sam' }] });
  await waitUntil(() => held, (x) => x !== undefined, 'the acknowledgement held at the mail server');
  // Killed at once (see the rules-4 test: no wait that a slow start could stretch past the socket timeout).
  await first.kill('SIGKILL');
  release();
  await worker().waitFor(/worker running/);

  const c = await waitUntil(() => h.query(getCaseQuery), (x) => x.messages.every((m) => m.status === 'sent') && x.messages.some((m) => m.kind === 'delivery_failed'), 'the acknowledgement recorded and the CSM told', 60_000);
  const ack = c.messages.find((m) => m.kind === 'acknowledgement')!;
  expect(ack).toMatchObject({ status: 'sent', reason: expect.stringMatching(/^not confirmed: .*not sent again/) });
  // The mail server read it once and was never sent it again.
  expect(smtp.arrived.filter((a) => a.mail.messageId === held!.messageId)).toHaveLength(1);
  expect(smtp.received.filter((r) => r.mail.messageId === held!.messageId)).toHaveLength(0);
  // The CSM is told on Slack that it may not have arrived.
  const notice = c.messages.find((m) => m.kind === 'delivery_failed')!;
  expect(notice.channel).toBe('slack');
  expect(slack.messages.some((m) => m.thread_ts && m.text.includes('acknowledgement message by email may not have arrived'))).toBe(true);
  expect(c.timeline.some((e) => e.type === 'delivery_unconfirmed')).toBe(true);
  // The retry read the mark its killed predecessor wrote (heartbeat details) and did not send.
  const events = (await h.fetchHistory()).events ?? [];
  const retried = events.map((e) => e.activityTaskStartedEventAttributes).filter((a) => a && (a.attempt ?? 1) > 1);
  expect(retried).toHaveLength(1);
  expect({ lastFailure: retried[0]!.lastFailure?.message, timeoutType: retried[0]!.lastFailure?.timeoutFailureInfo?.timeoutType }).toMatchObject({ timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT });
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
