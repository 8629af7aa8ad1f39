import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { startInboundSmtp } from '../../api/smtp-inbound';
import type { Calendar } from '../../playbook';
import { EMAIL_FROM, KEYS, eventually, openBody, startSystem, type System } from '../helpers/system';

const US_EAST: Calendar = {
  name: 'us-east',
  timezone: 'America/New_York',
  hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] },
  holidays: ['2026-12-25'],
};

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ calendars: { 'us-east': US_EAST } });
}, 120_000);
afterAll(() => sys?.stop());

/** A raw RFC 822 reply, as a mail client writes one: new text, a signature, the quoted original. */
function rawReply(o: { from?: string; to?: string; inReplyTo?: string; references?: string; subject?: string; body: string; messageId?: string }): string {
  const lines = [
    `From: Pat Customer <${o.from ?? 'pat@customer.example'}>`,
    `To: ${o.to ?? EMAIL_FROM}`,
    `Subject: ${o.subject ?? "Re: We're on it"}`,
    `Message-ID: ${o.messageId ?? `<reply-${Math.random().toString(36).slice(2)}@customer.example>`}`,
    ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`] : []),
    ...(o.references ? [`References: ${o.references}`] : []),
    'Date: Mon, 05 Jan 2026 15:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body,
  ];
  return lines.join('\r\n');
}

const postReply = (raw: string, key: keyof typeof KEYS = 'inbound') =>
  sys.call('POST', '/inbound/email', { key, body: raw, headers: { 'content-type': 'message/rfc822' } });

async function openAcknowledged() {
  const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ contact: { name: 'Pat Customer', email: 'pat@customer.example' } }) });
  expect(opened.status).toBe(201);
  const id = opened.body.id as string;
  const ack = await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: { note: 'We are looking at the sync logs now.' } });
  expect(ack.status).toBe(200);
  const mail = await eventually(
    async () => sys.smtp.received.find((r) => r.mail.messageId?.includes(id) && r.envelopeTo.includes('pat@customer.example')),
    (r) => r !== undefined,
    'the acknowledgement email',
  );
  return { id, ack: mail!.mail };
}

describe('a paused case, a customer reply by email, the case resumed and the CSM told (dev server, real worker, SMTP and Slack)', () => {
  test('the reply to the acknowledgement thread lands on the case without its quoted history, resumes it and reaches the CSM by email and in the Slack thread', async () => {
    const { id, ack } = await openAcknowledged();
    // Customer emails carry a Reply-To that names the case.
    expect(ack.replyTo?.value[0].address).toBe(`escalations+${id}@vendor.example`);

    const paused = await sys.call('POST', `/escalations/${id}/pause`, { key: 'agent', body: { reason: 'waiting_on_customer', note: 'Asked for their sync logs' } });
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toMatchObject({ reason: 'waiting_on_customer' });
    expect(paused.body.deadlines.respond).toBeNull();
    const view = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
    expect(view.body.paused.remaining.respond).toBeGreaterThan(0);
    await eventually(
      () => sys.client.workflow.count(`EscalationPaused = true AND WorkflowId = '${view.body.workflowId}'`).then((c) => c.count),
      (n) => n === 1,
      'the paused search attribute',
    );

    const body = [
      'Here are the logs you asked for: the sync stops at 02:00 every night.',
      '',
      '-- ',
      'Pat Customer | Head of Finance Ops',
      '',
      `On Mon, Jan 5, 2026 at 3:00 PM Sam <${EMAIL_FROM}> wrote:`,
      "> I just saw this and I'm sorry you're dealing with it.",
      '> You will hear from me by 5pm.',
    ].join('\r\n');
    const res = await postReply(rawReply({ inReplyTo: ack.messageId, references: ack.messageId, body }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ caseId: id, matchedBy: 'thread' });

    const after = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
    expect(after.body.paused).toBeNull();
    expect(after.body.pausedSeconds).toBeGreaterThanOrEqual(0);
    expect(after.body.deadlines.respond).not.toBeNull();
    expect(after.body.replies).toEqual([expect.objectContaining({ from: 'pat@customer.example', text: 'Here are the logs you asked for: the sync stops at 02:00 every night.' })]);
    expect(after.body.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['paused', 'customer_reply', 'resumed']));

    // The CSM is told by email and in the case's Slack thread, in the customer's words.
    const csm = openBody().csm.email;
    const told = await eventually(
      async () => sys.smtp.received.find((r) => r.envelopeTo.includes(csm) && /Customer reply/.test(r.mail.subject ?? '') && r.mail.text?.includes(id) !== false && r.mail.text?.includes('sync stops at 02:00')),
      (r) => r !== undefined,
      'the CSM email',
    );
    expect(told!.mail.text).not.toContain('You will hear from me');
    await eventually(
      async () => sys.slack.messages.filter((m) => m.text.includes('sync stops at 02:00')),
      (m) => m.length === 1 && m[0].thread_ts !== undefined,
      'the Slack reply in the case thread',
    );
    await eventually(
      () => sys.client.workflow.count(`EscalationPaused = false AND WorkflowId = '${view.body.workflowId}'`).then((c) => c.count),
      (n) => n === 1,
      'the paused search attribute cleared',
    );

    // The same email delivered twice (a provider's retry) is recorded once.
    const again = await postReply(rawReply({ inReplyTo: ack.messageId, body: 'Second, different text', messageId: '<fixed-1@customer.example>' }));
    const twice = await postReply(rawReply({ inReplyTo: ack.messageId, body: 'Second, different text', messageId: '<fixed-1@customer.example>' }));
    expect([again.status, twice.status]).toEqual([200, 200]);
    const final = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
    expect(final.body.replies).toHaveLength(2);
  });

  test("eleven mail clients' real replies (mailgun/talon's standard replies), posted to /inbound/email for a case, each record exactly \"Hello\"", async () => {
    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ customer: { ...openBody().customer, id: 'talon-replies' } }) });
    const id = opened.body.id as string;
    const dir = join(__dirname, '..', 'fixtures', 'replies', 'talon');
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    for (const file of files) {
      // Addressed to the case's +caseId address, with a Message-ID of its own (they share one in the fixtures).
      const raw = readFileSync(join(dir, file), 'latin1')
        .replace(/^To:.*$/im, `To: escalations+${id}@vendor.example`)
        .replace(/^Message-ID:.*$/im, `Message-ID: <${file}-${id}@client.example>`);
      const r = await sys.call('POST', '/inbound/email', { key: 'inbound', body: raw.includes('Message-ID: <') ? raw : `Message-ID: <${file}-${id}@client.example>\r\n${raw}`, headers: { 'content-type': 'message/rfc822' } });
      expect([file, r.status]).toEqual([file, 200]);
    }
    const view = (await sys.call('GET', `/escalations/${id}`, { key: 'viewer' })).body;
    expect(view.replies.map((x: { text: string }) => x.text)).toEqual(files.map(() => 'Hello'));
  });

  test('a reply with no case to match is 422 unmatched_reply and changes nothing; the inbound key can do nothing else', async () => {
    const { id } = await openAcknowledged();
    const before = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
    const stray = await postReply(rawReply({ inReplyTo: '<something-else@elsewhere.example>', body: 'Hello?' }));
    expect(stray.status).toBe(422);
    expect(stray.body.error.code).toBe('unmatched_reply');
    const ghost = await postReply(rawReply({ inReplyTo: '<escalation-esc-doesnotexist.m1@vendor.example>', body: 'Hello?' }));
    expect([ghost.status, ghost.body.error.code]).toEqual([422, 'unmatched_reply']);
    const quotedOnly = await postReply(rawReply({ to: `escalations+${id}@vendor.example`, body: '> only the quote' }));
    expect([quotedOnly.status, quotedOnly.body.error.code]).toEqual([422, 'empty_reply']);
    const after = await sys.call('GET', `/escalations/${id}`, { key: 'viewer' });
    expect(after.body.timeline).toEqual(before.body.timeline);

    expect((await sys.call('GET', '/escalations', { key: 'inbound' })).status).toBe(403);
    expect((await sys.call('POST', `/escalations/${id}/pause`, { key: 'inbound', body: { reason: 'waiting_on_customer' } })).status).toBe(403);
    expect((await postReply(rawReply({ body: 'x' }), 'viewer')).status).toBe(403);
    const wrongType = await sys.call('POST', '/inbound/email', { key: 'inbound', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect([wrongType.status, wrongType.body.error.code]).toEqual([415, 'unsupported_media_type']);
  });

  test('the built-in SMTP receiver takes a reply sent to the +caseId address with no threading headers, and refuses a stray one with 550', async () => {
    const { id } = await openAcknowledged();
    const smtp = await startInboundSmtp({ port: 0, service: sys.service, emailFrom: EMAIL_FROM, logger: sys.logger, host: '127.0.0.1' });
    try {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'pat@customer.example', to: `escalations+${id}@vendor.example`, subject: 'about the sync', text: 'It failed again last night.' });
      const view = await eventually(() => sys.call('GET', `/escalations/${id}`, { key: 'viewer' }), (v) => v.body.replies?.length === 1, 'the reply by SMTP');
      expect(view.body.replies[0]).toMatchObject({ from: 'pat@customer.example', text: 'It failed again last night.', subject: 'about the sync' });
      await expect(transport.sendMail({ from: 'pat@customer.example', to: 'someone@vendor.example', text: 'Hello?' })).rejects.toMatchObject({ responseCode: 550 });
    } finally {
      await smtp.close();
    }
  });

  test('a case opens on a calendar from the config (business-hours deadlines, named in the view); an unknown calendar is 400', async () => {
    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ calendar: 'us-east' }) });
    expect(opened.status).toBe(201);
    expect(opened.body.calendar).toBe('us-east');
    const got = await sys.call('GET', `/escalations/${opened.body.id}`, { key: 'viewer' });
    expect(got.body.calendar).toBe('us-east');
    expect(got.body.deadlines).toEqual(opened.body.deadlines);
    const unknown = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ calendar: 'mars' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ field: 'calendar' })]);
    const pauseTooEarly = await sys.call('POST', `/escalations/${opened.body.id}/pause`, { key: 'agent', body: { reason: 'waiting_on_customer' } });
    expect(pauseTooEarly.status).toBe(409);
    const badReason = await sys.call('POST', `/escalations/${opened.body.id}/pause`, { key: 'agent', body: { reason: 'lunch' } });
    expect([badReason.status, badReason.body.error.details[0].field]).toEqual([400, 'reason']);
  });
});
