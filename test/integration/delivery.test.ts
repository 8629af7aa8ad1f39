import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import { createActivities } from '../../activities';
import { OutboxMailer, SmtpMailer } from '../../activities/email';
import { Renderer } from '../../activities/render';
import { SlackWebApiPoster } from '../../activities/slack';
import { PERMANENT_FAILURE, type DeliverInput, type DeliveryResult } from '../../activities/types';
import { DEFAULT_ROSTER } from '../../config/settings';
import { verifyLink } from '../../config/links';
import { DEFAULT_POLICY, apply, messageCase, openCase, type CaseState, type Outbound } from '../../playbook';
import { caseInput } from '../helpers/fixtures';
import { startSlack, type SlackFixture } from '../helpers/slack';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';

const SECRET = 'test-link-secret-0123456789';
const T0 = Date.parse('2026-01-05T14:00:00Z');
const roster = { ...DEFAULT_ROSTER, supportLead: { name: 'Lee Support', email: 'lead@vendor.example', slack: 'U0LEAD' }, engineering: { name: 'Eng Oncall', email: 'eng@vendor.example', slack: 'S0ENG' } };

let smtp: SmtpFixture;
let slack: SlackFixture;
beforeAll(async () => {
  [smtp, slack] = await Promise.all([startSmtp(), startSlack()]);
});
afterAll(async () => {
  await Promise.all([smtp?.close(), slack?.close()]);
});
beforeEach(() => {
  smtp.received.length = 0;
  slack.calls.length = 0;
  slack.state.rateLimitNext = 0;
  slack.state.failAfterPostNext = 0;
  slack.state.historyScope = true;
  slack.messages.length = 0;
});

function activities(o: { smtpUrl?: string; token?: string; channel?: string; templatesDir?: string } = {}) {
  return createActivities({
    mailer: new SmtpMailer(o.smtpUrl ?? smtp.url),
    slack: o.token === '' ? undefined : new SlackWebApiPoster(o.token ?? 'xoxb-good', slack.apiUrl),
    slackChannel: o.channel ?? 'C0CASES',
    roster,
    renderer: new Renderer(o.templatesDir),
    emailFrom: 'escalations@vendor.example',
    publicBaseUrl: 'https://esc.vendor.example',
    linkSecret: SECRET,
  });
}

/** A case walked to resolution, with every message the playbook asked for on the way. */
function walk(input = caseInput()): { state: CaseState; sent: Outbound[] } {
  let t = openCase({ id: 'c-42', input, policy: DEFAULT_POLICY, now: T0 });
  const sent = [...t.effects];
  const step = (a: Parameters<typeof apply>[1], at: number) => {
    t = apply(t.state, a, at);
    sent.push(...t.effects);
  };
  step({ type: 'acknowledge', by: 'Sam', nextUpdateAt: new Date(T0 + 3_600_000).toISOString(), note: 'Our on-call engineer is already on it.' }, T0 + 600_000);
  step({ type: 'update', known: 'The sync job fails on files over 2GB', unknown: 'why EU only', workaround: 'split the export', nextUpdateAt: new Date(T0 + 7_200_000).toISOString() }, T0 + 1_800_000);
  step({ type: 'resolve', rootCause: 'A memory limit', fix: 'streamed uploads', prevention: 'load tests on 5GB files' }, T0 + 3_000_000);
  return { state: t.state, sent };
}

const input = (state: CaseState, message: Outbound): DeliverInput => ({ caseId: state.id, message, case: messageCase(state) });

describe('email', () => {
  test('customer emails follow the playbook subjects and form one thread with deterministic Message-IDs', async () => {
    const { state, sent } = walk();
    const acts = activities();
    for (const m of sent.filter((x) => x.audience === 'customer')) await acts.sendEmail(input(state, m));
    const mails = smtp.received.map((r) => r.mail);
    expect(mails.map((m) => m.subject)).toEqual(["Re: Data sync failing — We're on it", 'Update on Data sync failing', 'Resolved: Data sync failing']);
    expect(smtp.received.every((r) => r.envelopeTo.join() === 'dana@acme.example')).toBe(true);
    const [ack, upd, res] = mails;
    expect(ack.messageId).toBe('<escalation-c-42.m3@vendor.example>');
    expect(ack.inReplyTo).toBeUndefined();
    expect(upd.inReplyTo).toBe(ack.messageId);
    expect(res.inReplyTo).toBe(upd.messageId);
    expect(res.references).toEqual([ack.messageId, upd.messageId]);
    expect(ack.from?.text).toBe('"Sam Carter" <escalations@vendor.example>');
    // times in the contact's time zone (America/New_York): 15:00Z is 10:00 AM EST
    expect(ack.text).toContain('update by Mon, Jan 5, 10:00 AM EST');
    expect(upd.text).toContain("What we're still investigating: why EU only");
    expect(upd.text).toContain('To keep moving in the meantime: split the export');
  });

  test('the resolution carries signed confirm and not-fixed links; the follow-up a CSAT link', async () => {
    const { state, sent } = walk();
    const acts = activities();
    await acts.sendEmail(input(state, sent.find((m) => m.template === 'resolution')!));
    const mail = smtp.received[0].mail;
    const links = [...String(mail.html).matchAll(/href="(https:\/\/esc\.vendor\.example\/links\/[^"]+)"/g)].map((m) => m[1]);
    expect(links).toHaveLength(2);
    const actions = links.map((l) => verifyLink(SECRET, l.split('/links/')[1]));
    expect(actions.map((a) => [a.caseId, a.action])).toEqual([
      ['c-42', 'confirm'],
      ['c-42', 'not_fixed'],
    ]);
    expect(mail.text).toMatch(/Yes, it's working: https:\/\/esc\.vendor\.example\/links\//);
    const followUp: Outbound = { id: 'm99', kind: 'follow_up', channel: 'email', audience: 'customer', template: 'follow_up', to: ['contact'], data: { fix: 'streamed uploads', prevention: 'load tests' }, thread: [] };
    await acts.sendEmail(input(state, followUp));
    const csat = /\/links\/([\w.-]+)/.exec(String(smtp.received[1].mail.text))![1];
    expect(verifyLink(SECRET, csat).action).toBe('csat');
    expect(smtp.received[1].mail.subject).toBe('Checking in on Data sync failing');
  });

  test('user text is escaped in HTML and can never inject a header', async () => {
    const evil = caseInput({ title: 'Sync <script>alert(1)</script>\r\nBcc: victim@evil.test', impact: '<b>payroll</b>' });
    const { state, sent } = walk(evil);
    await activities().sendEmail(input(state, sent.find((m) => m.template === 'acknowledgement')!));
    const { mail, envelopeTo } = smtp.received[0];
    expect(envelopeTo).toEqual(['dana@acme.example']);
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).toBe("Re: Sync <script>alert(1)</script> Bcc: victim@evil.test — We're on it");
    expect(String(mail.html)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(String(mail.html)).not.toContain('<script>');
    expect(String(mail.html)).toContain('&lt;b&gt;payroll&lt;/b&gt;');
  });

  test('the escalation to support/engineering has the playbook fields and goes to the roles the severity involves', async () => {
    const { state, sent } = walk(caseInput({ neededBy: '2026-01-06T17:00:00Z', workaround: 'manual CSV export' }));
    const r = await activities().sendEmail(input(state, sent.find((m) => m.kind === 'case_opened' && m.channel === 'email')!));
    expect(r.to).toEqual(['sam@vendor.example', 'lead@vendor.example', 'eng@vendor.example']);
    const { mail } = smtp.received[0];
    expect(mail.subject).toBe('[ESCALATION - Critical] Acme Corp - Data sync failing');
    for (const line of ['Customer: Acme Corp', 'Segment: Enterprise', 'ARR: $240,000', 'Health Score: 62', 'Issue: Data sync failing', 'Impact: their finance team cannot close the month', 'Timeline: Customer needs resolution by Tue, Jan 6, 5:00 PM UTC', 'What I\'ve tried: \n- Customer workaround: manual CSV export', 'Customer contact: Dana Reyes <dana@acme.example>']) {
      expect(mail.text).toContain(line);
    }
  });

  test('the escalation to leadership has situation, impact, what we did, what we need and a recommendation', async () => {
    const { state } = walk();
    const t = apply(state, { type: 'internal_escalation', trigger: 'churn_threat', note: 'Offer a service credit and an exec call', ask: 'Approve a 10% credit' }, T0 + 4_000_000);
    await activities().sendEmail(input(t.state, t.effects[0]));
    const { mail, envelopeTo } = smtp.received[0];
    expect(envelopeTo).toEqual(['vpcs@localhost', 'execsponsor@localhost']);
    expect(mail.subject).toBe('[ESCALATION] Acme Corp - Churn Risk'); // the subject names the trigger (an executive: "Executive Involved")
    expect(mail.text).toContain('Customer: Acme Corp | $240,000 | Enterprise');
    expect(mail.text).toMatch(/Situation: Churn threat\. Critical escalation "Data sync failing"/);
    expect(mail.text).toContain('What we need: Approve a 10% credit');
    expect(mail.text).toContain('Recommendation: Offer a service credit and an exec call');
    expect(mail.text).toContain('- 1 progress update(s) sent to the customer');
  });

  test('a templates folder overrides a template', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpl-'));
    writeFileSync(join(dir, 'acknowledgement.subject.hbs'), 'We are on it: {{case.title}}');
    const { state, sent } = walk();
    await activities({ templatesDir: dir }).sendEmail(input(state, sent.find((m) => m.template === 'acknowledgement')!));
    expect(smtp.received[0].mail.subject).toBe('We are on it: Data sync failing');
  });

  test('an unknown recipient (SMTP 550) is a permanent, non-retryable failure', async () => {
    const { state, sent } = walk(caseInput({ contact: { name: 'Nobody', email: 'nobody@reject.test' } }));
    const err = await activities().sendEmail(input(state, sent.find((m) => m.template === 'acknowledgement')!)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: PERMANENT_FAILURE, nonRetryable: true });
    expect((err as Error).message).toMatch(/SMTP 550/);
  });

  test('display names ending in a backslash, with quotes or accents, reach the mail server as written', async () => {
    const { state, sent } = walk(caseInput({ contact: { name: 'Dana Reyes \\', email: 'dana@acme.example' }, csm: { name: 'Sam "Ace" Carter \\', email: 'sam@vendor.example' } }));
    const r = await activities().sendEmail(input(state, sent.find((m) => m.template === 'acknowledgement')!));
    expect(r.status).toBe('sent');
    const mail = smtp.received.at(-1)!.mail;
    expect(mail.to).toMatchObject({ value: [{ name: 'Dana Reyes \\', address: 'dana@acme.example' }] });
    expect(mail.from).toMatchObject({ value: [{ name: 'Sam "Ace" Carter \\', address: 'escalations@vendor.example' }] });
    const accents = walk(caseInput({ contact: { name: 'Zoë Ångström, Jr.', email: 'zoe@acme.example' } }));
    await activities().sendEmail(input(accents.state, accents.sent.find((m) => m.template === 'acknowledgement')!));
    expect(smtp.received.at(-1)!.mail.to).toMatchObject({ value: [{ name: 'Zoë Ångström, Jr.', address: 'zoe@acme.example' }] });
  });

  test('one refused recipient of three: the others get the email, the refused one is reported with its reason', async () => {
    const refusing = { ...roster, engineering: { name: 'Eng Oncall', email: 'eng@reject.test' } };
    const acts = createActivities({ mailer: new SmtpMailer(smtp.url), roster: refusing, renderer: new Renderer(), emailFrom: 'escalations@vendor.example', publicBaseUrl: 'http://x', linkSecret: SECRET });
    const { state, sent } = walk();
    const opened = sent.find((m) => m.kind === 'case_opened' && m.channel === 'email')!;
    expect(opened.to).toEqual(['csm', 'supportLead', 'engineering']);
    const r = await acts.sendEmail(input(state, opened));
    expect(r).toMatchObject({ status: 'sent', to: ['sam@vendor.example', 'lead@vendor.example'], rejected: [{ address: 'eng@reject.test', reason: expect.stringMatching(/550/) }] });
    expect(smtp.received.at(-1)!.envelopeTo).toEqual(['sam@vendor.example', 'lead@vendor.example']);
  });

  test('SMTP 4xx and a refused connection are transient: retried by Temporal', async () => {
    const { state, sent } = walk(caseInput({ contact: { name: 'Busy', email: 'busy@busy.test' } }));
    const ack = sent.find((m) => m.template === 'acknowledgement')!;
    const busy = await activities().sendEmail(input(state, ack)).catch((e: unknown) => e);
    expect(busy).not.toBeInstanceOf(ApplicationFailure);
    expect((busy as Error).message).toMatch(/SMTP 451/);
    const refused = await activities({ smtpUrl: 'smtp://127.0.0.1:1' }).sendEmail(input(state, ack)).catch((e: unknown) => e);
    expect(refused).not.toBeInstanceOf(ApplicationFailure);
    expect((refused as Error).message).toMatch(/ECONNREFUSED|ECONNECTION|connect/i);
  });

  describe("a send with a point of no return (a customer's email as an activity, activities/send-mark.ts)", () => {
    const mail = (subject: string, to = 'dana@acme.example') => ({ messageId: `<${subject}@vendor.example>`, from: { address: 'escalations@vendor.example' }, to: [{ address: to }], subject, text: 'hello', html: '<p>hello</p>' });
    /** A commit that records when it is called, what the mail server had taken by then, and waits `passMs`. */
    function commit(passMs = 0, fail = false) {
      const seen = { pass: [] as number[], notKept: 0, arrivedAtPass: -1 };
      return {
        seen,
        pass: async () => {
          seen.pass.push(Date.now());
          seen.arrivedAtPass = smtp.arrived.length;
          await new Promise((r) => setTimeout(r, passMs));
          if (fail) throw new Error('Temporal unreachable');
        },
        notKept: async () => {
          seen.notKept++;
        },
      };
    }

    test('the message ends only once the mark is written: the server has taken nothing before; the send then goes as any other', async () => {
      const c = commit(300);
      const before = smtp.arrived.length;
      const r = await new SmtpMailer(smtp.url).send(mail('marked-1'), c);
      expect(c.seen.pass).toHaveLength(1);
      expect(c.seen.arrivedAtPass).toBe(before); // the recipients were taken, the message not yet
      expect(c.seen.notKept).toBe(0);
      expect(r).toEqual({ accepted: ['dana@acme.example'], rejected: [] });
      const got = smtp.received.at(-1)!;
      expect(got.at - c.seen.pass[0]).toBeGreaterThanOrEqual(300);
      expect(got.mail).toMatchObject({ messageId: '<marked-1@vendor.example>', subject: 'marked-1', text: 'hello', html: '<p>hello</p>' });
    });

    test('refused before its last line (recipient 550) or after it (554): the mark is taken back and the error is as without one', async () => {
      const early = commit();
      const e1 = await new SmtpMailer(smtp.url).send(mail('marked-2', 'nobody@reject.test'), early).catch((e: unknown) => e);
      expect(e1).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/SMTP 550/) });
      expect(early.seen).toMatchObject({ pass: [], notKept: 1 });
      smtp.state.refuseWhen = (m) => m.subject === 'marked-3';
      try {
        const late = commit();
        const e2 = await new SmtpMailer(smtp.url).send(mail('marked-3'), late).catch((e: unknown) => e);
        expect(e2).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/SMTP 554/) });
        expect(late.seen.pass).toHaveLength(1);
        expect(late.seen.notKept).toBe(1);
      } finally {
        smtp.state.refuseWhen = undefined;
      }
    });

    test('a mark that cannot be written stops the send before its last line: nothing is taken, the error is retried', async () => {
      const c = commit(0, true);
      const before = smtp.received.length;
      const err = await new SmtpMailer(smtp.url).send(mail('marked-4'), c).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect(c.seen.notKept).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.received.length).toBe(before);
      expect(smtp.arrived.some((a) => a.mail.subject === 'marked-4')).toBe(false);
    });
  });

  test('one log line per message sent, skipped or failed: case, message, kind, channel, status, reason', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const make = (smtpUrl: string, token?: string) =>
      createActivities({ mailer: new SmtpMailer(smtpUrl), slack: token ? new SlackWebApiPoster(token, slack.apiUrl) : undefined, slackChannel: 'C0CASES', roster, renderer: new Renderer(), emailFrom: 'escalations@vendor.example', publicBaseUrl: 'http://x', linkSecret: SECRET, logger });
    const { state, sent } = walk();
    const ack = sent.find((m) => m.template === 'acknowledgement')!;
    const post = sent.find((m) => m.channel === 'slack')!;
    await make(smtp.url).sendEmail(input(state, ack));
    await make(smtp.url).postSlack(input(state, post)); // Slack off
    await make('smtp://127.0.0.1:1').sendEmail(input(state, ack)).catch(() => undefined);
    expect(lines.map((l) => [l.level, l.caseId, l.messageId, l.kind, l.channel, l.status])).toEqual([
      [30, 'c-42', ack.id, 'acknowledgement', 'email', 'sent'],
      [30, 'c-42', post.id, post.kind, 'slack', 'skipped'],
      [40, 'c-42', ack.id, 'acknowledgement', 'email', 'failed'],
    ]);
    expect(lines[1].reason).toMatch(/Slack is off/);
    expect(lines[2].reason).toMatch(/ECONNREFUSED|connect/i);
    expect(lines[2].msg).toMatch(/retried/);
  });

  test('without SMTP_URL every message lands in a readable outbox, once per Message-ID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const acts = createActivities({ mailer: new OutboxMailer(dir), roster, renderer: new Renderer(), emailFrom: 'esc@localhost', publicBaseUrl: 'http://localhost:3000', linkSecret: SECRET });
    const { state, sent } = walk();
    const ack = sent.find((m) => m.template === 'acknowledgement')!;
    await acts.sendEmail(input(state, ack));
    await acts.sendEmail(input(state, ack)); // a retry
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    expect(files).toEqual(['escalation-c-42.m3@localhost.eml']);
    const parsed = await simpleParser(readFileSync(join(dir, files[0])));
    expect(parsed.subject).toBe("Re: Data sync failing — We're on it");
    expect(parsed.to).toMatchObject({ value: [{ name: 'Dana Reyes', address: 'dana@acme.example' }] });
    expect(readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('Slack', () => {
  test('the first post starts the case thread; later ones reply in it and mention the roster people', async () => {
    const { state, sent } = walk();
    const acts = activities();
    const opened = sent.find((m) => m.kind === 'case_opened' && m.channel === 'slack')!;
    const first = await acts.postSlack(input(state, opened));
    expect(first.threadTs).toMatch(/^\d+\.\d+$/);
    const t = apply(state, { type: 'internal_escalation', trigger: 'engineering_required', note: 'Needs a hotfix' }, T0 + 4_000_000);
    const next = await acts.postSlack({ ...input(t.state, t.effects[1]), threadTs: first.threadTs });
    expect(next.threadTs).toBe(first.threadTs);
    expect(slack.calls.map((c) => [c.method, c.args.channel, c.args.thread_ts])).toEqual([
      ['chat.postMessage', 'C0CASES', undefined],
      ['chat.postMessage', 'C0CASES', first.threadTs],
    ]);
    expect(slack.calls[0].token).toBe('xoxb-good');
    expect(slack.calls[1].args.text).toContain('<@U0LEAD> <!subteam^S0ENG>');
    expect(slack.calls[1].args.text).toContain('*[ESCALATION - Critical] Acme Corp - Data sync failing*');
  });

  test('without a token Slack is off and the post is recorded as skipped', async () => {
    const { state, sent } = walk();
    const r = await activities({ token: '' }).postSlack(input(state, sent.find((m) => m.channel === 'slack')!));
    expect(r).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/SLACK_BOT_TOKEN/) });
    expect(slack.calls).toHaveLength(0);
  });

  test("a 429 is retried after Slack's Retry-After", async () => {
    slack.state.rateLimitNext = 1;
    const { state, sent } = walk();
    const err = await activities().postSlack(input(state, sent.find((m) => m.channel === 'slack')!)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'SlackRateLimited', nonRetryable: false, nextRetryDelay: '3s' });
  });

  test('every post carries its case and message id as metadata; a retried post that had landed is found, not posted again', async () => {
    const { state, sent } = walk();
    const opened = sent.find((m) => m.kind === 'case_opened' && m.channel === 'slack')!;
    slack.state.failAfterPostNext = 1; // the post lands, the answer is lost
    const first = await activities().postSlack(input(state, opened)).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(slack.roots('c-42')).toHaveLength(1);
    expect(slack.roots('c-42')[0].metadata).toEqual({ event_type: 'escalation_message', event_payload: { case_id: 'c-42', message_id: opened.id } });
    const retry = await new MockActivityEnvironment({ attempt: 2 }).run(activities().postSlack, input(state, opened));
    expect(retry).toMatchObject({ status: 'sent', threadTs: slack.roots('c-42')[0].ts });
    expect(slack.roots('c-42')).toHaveLength(1);
    // A first attempt never looks: it posts.
    expect(slack.calls.filter((c) => c.method.startsWith('conversations.')).map((c) => c.method)).toEqual(['conversations.history']);
  });

  test('without the channels:history scope a retried post cannot look for itself and posts again (the documented window)', async () => {
    const { state, sent } = walk();
    const opened = sent.find((m) => m.kind === 'case_opened' && m.channel === 'slack')!;
    slack.state.historyScope = false;
    slack.state.failAfterPostNext = 1;
    await activities().postSlack(input(state, opened)).catch(() => undefined);
    const retry: DeliveryResult = await new MockActivityEnvironment({ attempt: 2 }).run(activities().postSlack, input(state, opened));
    expect(retry.status).toBe('sent');
    expect(slack.calls.find((c) => c.method === 'conversations.history')).toBeDefined();
    expect(slack.roots('c-42')).toHaveLength(2);
  });

  test('a retried reply looks in its thread', async () => {
    const { state, sent } = walk();
    const acts = activities();
    const root = await acts.postSlack(input(state, sent.find((m) => m.kind === 'case_opened' && m.channel === 'slack')!));
    const t = apply(state, { type: 'internal_escalation', trigger: 'engineering_required', note: 'Needs a hotfix' }, T0 + 4_000_000);
    const reply = t.effects.find((m) => m.channel === 'slack')!;
    slack.state.failAfterPostNext = 1;
    await acts.postSlack({ ...input(t.state, reply), threadTs: root.threadTs }).catch(() => undefined);
    const again: DeliveryResult = await new MockActivityEnvironment({ attempt: 3 }).run(acts.postSlack, { ...input(t.state, reply), threadTs: root.threadTs });
    expect(again.status).toBe('sent');
    expect(slack.messages.filter((m) => m.metadata?.event_payload.message_id === reply.id)).toHaveLength(1);
    expect(slack.calls.at(-1)?.method).toBe('conversations.replies');
  });

  test.each([
    ['channel_not_found', { channel: 'C404' }],
    ['invalid_auth', { token: 'xoxb-bad' }],
  ])('%s is permanent', async (code, o) => {
    const { state, sent } = walk();
    const err = await activities(o).postSlack(input(state, sent.find((m) => m.channel === 'slack')!)).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: PERMANENT_FAILURE, nonRetryable: true, message: `Slack: ${code}` });
  });
});
