import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
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

/** Sends one email; throws a retryable error for a transient fault, a non-retryable ApplicationFailure otherwise. */
export interface Mailer {
  send(mail: Mail): Promise<SendResult>;
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

/** SMTP through nodemailer. SMTP 5xx is permanent (unknown recipient, rejected); 4xx and network faults are retried. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  constructor(url: string) {
    // Short timeouts: a hung server is a transient fault that Temporal retries, not a stuck activity.
    this.transport = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  }
  async send(mail: Mail) {
    try {
      const info = await this.transport.sendMail(toNodemailer(mail));
      const address = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
      const errors = (info as { rejectedErrors?: { recipient?: string; response?: string; message: string }[] }).rejectedErrors ?? [];
      return {
        accepted: (info.accepted as (string | { address: string })[]).map(address),
        rejected: (info.rejected as (string | { address: string })[]).map((a) => {
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
