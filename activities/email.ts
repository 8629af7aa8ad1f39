import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { ApplicationFailure } from '@temporalio/common';
import { PERMANENT_FAILURE } from './types';
import { WORKFLOW_ID_PREFIX } from '../playbook';

/** A mailbox with an optional display name: nodemailer encodes the name, whatever it contains. */
export interface Address {
  name?: string;
  address: string;
}

export interface Mail {
  messageId: string;
  from: Address;
  to: Address[];
  subject: string;
  text: string;
  html: string;
  inReplyTo?: string;
  references?: string[];
  /** Customer emails: `<local>+<caseId>@<domain>` of EMAIL_FROM (see api/inbound.ts). */
  replyTo?: string;
}

/** What the mail server said of each recipient. */
export interface SendResult {
  accepted: string[];
  /** Recipients the server refused while it took the others (a refusal of all of them throws). */
  rejected: { address: string; reason: string }[];
}

/**
 * A send's point of no return (activities/send-mark.ts): `pass` is awaited before the message's last
 * line goes, after which the mail server may keep it; `notKept` when the send failed and the server
 * said it kept nothing, or never read the last line.
 */
export interface Commit {
  pass(): Promise<void>;
  notKept(): Promise<void>;
}

/** Sends one email; throws a retryable error for a transient fault, a non-retryable ApplicationFailure otherwise. */
export interface Mailer {
  send(mail: Mail, commit?: Commit): Promise<SendResult>;
  close?(): void;
}

/** Deterministic per message, so a retried send is the same message, not a new one. */
export function messageIdFor(caseId: string, messageId: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
  return `<${WORKFLOW_ID_PREFIX}${caseId}.${messageId}@${domain}>`;
}

/** Where a customer's reply to a case email goes: EMAIL_FROM's mailbox with `+<caseId>` (RFC 5233 subaddress). */
export function replyAddressFor(caseId: string, from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
  const at = address.lastIndexOf('@');
  return at > 0 ? `${address.slice(0, at)}+${caseId}${address.slice(at)}` : `${address}+${caseId}@localhost`;
}

/** Display names as nodemailer takes them: one line; nodemailer quotes and encodes the rest. */
const addr = (a: Address) => (a.name ? { name: a.name.replace(/[\r\n\0]+/g, ' ').trim(), address: a.address } : a.address);

function toNodemailer(mail: Mail) {
  return {
    messageId: mail.messageId,
    from: addr(mail.from),
    to: mail.to.map(addr),
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    inReplyTo: mail.inReplyTo,
    references: mail.references,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    // The case's Message-ID and thread stand; nodemailer must not make up its own.
    headers: { 'X-Escalation-Message': mail.messageId },
  };
}

/** Short timeouts: a hung server is a transient fault that Temporal retries, not a stuck activity. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** SMTP through nodemailer. SMTP 5xx is permanent (unknown recipient, rejected); 4xx and network faults are retried. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  /** Builds a message's MIME text (CRLF lines) for a send with a point of no return. */
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  constructor(private readonly url: string) {
    this.transport = nodemailer.createTransport({ url, ...TIMEOUTS });
  }
  async send(mail: Mail, commit?: Commit) {
    try {
      const info = commit ? await this.sendPastMark(mail, commit) : await this.transport.sendMail(toNodemailer(mail));
      const address = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
      const errors = (info as { rejectedErrors?: { recipient?: string; response?: string; message: string }[] }).rejectedErrors ?? [];
      return {
        accepted: (info.accepted as (string | { address: string })[]).map(address),
        rejected: ((info.rejected ?? []) as (string | { address: string })[]).map((a) => {
          const e = errors.find((x) => x.recipient === address(a));
          return { address: address(a), reason: e?.response ?? e?.message ?? 'refused by the mail server' };
        }),
      };
    } catch (err) {
      const e = err as { responseCode?: number; message: string; code?: string };
      if (e.responseCode && e.responseCode >= 500) {
        throw ApplicationFailure.nonRetryable(`SMTP ${e.responseCode}: ${e.message}`, PERMANENT_FAILURE);
      }
      throw new Error(`SMTP ${e.responseCode ?? e.code ?? 'error'}: ${e.message}`);
    }
  }

  /**
   * One SMTP transaction whose message ends only once `commit.pass()` resolved. The connection pipes
   * the message once the server took the envelope and said "354", so the mark is written after the
   * recipients were accepted and before the line that ends the message.
   */
  private async sendPastMark(mail: Mail, commit: Commit): Promise<SMTPConnection.SentMessageInfo> {
    const raw = (await this.composer.sendMail(toNodemailer(mail))).message as Buffer;
    let ending = false;
    let ended = false;
    let reads = 0;
    const message = new Readable({
      read() {
        if (reads++ === 0) return void this.push(raw);
        if (ending) return;
        ending = true;
        commit.pass().then(
          () => {
            ended = true;
            this.push(null);
          },
          (err: unknown) => this.destroy(err as Error),
        );
      },
    });
    const options = { ...parseConnectionUrl(this.url), ...TIMEOUTS };
    const connection = new SMTPConnection(options);
    const envelope = { from: mail.from.address, to: mail.to.map((a) => a.address) };
    try {
      return await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) => {
        connection.once('error', reject);
        connection.connect(() => {
          const send = () => connection.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info)));
          if (!options.auth) return send();
          connection.login(options.auth as SMTPConnection.Credentials, (err) => (err ? reject(err) : send()));
        });
      });
    } catch (err) {
      // The server answered (a refusal), or never read the message's last line: it kept nothing.
      // Otherwise (the connection failed after the last line) it may have kept it: the mark stays.
      if (!ended || (err as { responseCode?: number }).responseCode) await commit.notKept();
      throw err;
    } finally {
      connection.quit();
    }
  }
  close() {
    this.transport.close();
  }
}

/**
 * With no SMTP_URL: each message is written as an .eml file under DATA_DIR/outbox, with an index
 * (index.jsonl) a person can read. The file is named by the Message-ID, so a retry overwrites it.
 */
export class OutboxMailer implements Mailer {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  async send(mail: Mail) {
    const info = await this.transport.sendMail(toNodemailer(mail));
    const file = `${mail.messageId.replace(/[<>]/g, '').replace(/[^\w.@-]/g, '_')}.eml`;
    writeFileSync(join(this.dir, file), info.message as Buffer);
    appendFileSync(
      join(this.dir, 'index.jsonl'),
      `${JSON.stringify({ at: new Date().toISOString(), messageId: mail.messageId, to: mail.to.map((a) => a.address), subject: mail.subject, file })}\n`,
    );
    return { accepted: mail.to.map((a) => a.address), rejected: [] };
  }
}
