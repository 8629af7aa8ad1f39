/**
 * Customer replies by email: a raw RFC 822 message (from a provider's inbound route, a Postfix pipe or
 * the built-in SMTP receiver) matched to its case and reduced to the customer's new words. Parsing is
 * mailparser's; cutting the quoted history and the signature is api/reply-text.ts's.
 */
import { simpleParser, type AddressObject } from 'mailparser';
import { replyText } from './reply-text';
import { CASE_ID_PATTERN, REPLY_CHARS, WORKFLOW_ID_PREFIX, truncate } from '../playbook';
import { HttpError } from './errors';
import type { EscalationService } from './service';

/** The largest raw message accepted (bytes): replies carry quoted history and sometimes attachments. */
export const INBOUND_LIMIT_BYTES = 5 * 1024 * 1024;

export interface InboundReply {
  caseId: string;
  /** How it was matched: the thread's Message-IDs, or the +caseId address. */
  matchedBy: 'thread' | 'address';
  from: string;
  subject?: string;
  messageId?: string;
  /** The new text: quoted history and signature removed. */
  text: string;
}

/** `<escalation-<caseId>.m<n>@domain>`, the Message-ID every email of a case carries (activities/email.ts). */
const THREAD_ID = new RegExp(`^<?${WORKFLOW_ID_PREFIX}(.+)\\.m\\d+@[^>\\s]+>?$`);

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? '')).filter(Boolean);
}

/** The case a message answers: by In-Reply-To/References first, then by a `local+<caseId>@domain` recipient. */
export function caseOf(m: { inReplyTo?: string; references?: string | string[]; recipients: string[] }, local: string): { caseId: string; matchedBy: InboundReply['matchedBy'] } | null {
  const refs = [m.inReplyTo, ...(Array.isArray(m.references) ? m.references : m.references ? m.references.split(/\s+/) : [])].filter(Boolean) as string[];
  for (const ref of refs) {
    const id = THREAD_ID.exec(ref.trim())?.[1];
    if (id && CASE_ID_PATTERN.test(id)) return { caseId: id, matchedBy: 'thread' };
  }
  const plus = new RegExp(`^${local.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\+([^@]+)@`, 'i');
  for (const to of m.recipients) {
    const id = plus.exec(to)?.[1];
    if (id && CASE_ID_PATTERN.test(id)) return { caseId: id, matchedBy: 'address' };
  }
  return null;
}

/** The customer's new words: without the quoted history (above or below it), the attribution, the signature. */
export function newText(body: string): string {
  // What a case keeps of one reply; the whole email stays in the mailbox it came from.
  return truncate(replyText(body), REPLY_CHARS);
}

export const unmatched = (why: string) => new HttpError(422, 'unmatched_reply', `The email matches no case: ${why}. Nothing was recorded.`);

/**
 * Reads a raw message. Throws 422 `unmatched_reply` when it names no case, 422 `empty_reply` when it
 * has no new text, 400 when it is not a message at all.
 */
export async function readReply(raw: Buffer, fromAddress: string): Promise<InboundReply> {
  if (raw.length === 0) throw new HttpError(400, 'invalid_input', 'The body is empty: send the raw message (Content-Type: message/rfc822)', [{ field: '(body)', message: 'empty' }]);
  const parsed = await simpleParser(raw, { skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true });
  const from = addresses(parsed.from)[0];
  if (!from) throw new HttpError(400, 'invalid_input', 'The message has no From address', [{ field: 'From', message: 'required' }]);
  const local = fromAddress.replace(/^.*</, '').split('@')[0];
  const recipients = [...addresses(parsed.to), ...addresses(parsed.cc), ...[parsed.headers.get('delivered-to')].flat().map(String)].filter(Boolean);
  const match = caseOf({ inReplyTo: parsed.inReplyTo, references: parsed.references, recipients }, local);
  if (!match) throw unmatched('no In-Reply-To or References of a case email, and no +<caseId> address');
  const text = newText(parsed.text ?? '');
  if (!text) throw new HttpError(422, 'empty_reply', 'The reply has no new text above the quoted message. Nothing was recorded.');
  return {
    ...match,
    from,
    text,
    ...(parsed.subject ? { subject: parsed.subject.slice(0, 998) } : {}),
    ...(parsed.messageId ? { messageId: parsed.messageId.slice(0, 998) } : {}),
  };
}

/**
 * A customer reply, from POST /inbound/email or the SMTP receiver: matched, recorded on its case once
 * (the Message-ID is the update's id, so a provider's retry records nothing twice).
 */
export async function receiveReply(service: EscalationService, raw: Buffer, emailFrom: string, allowed?: (caseId: string) => Promise<void>): Promise<{ caseId: string; matchedBy: string }> {
  const reply = await readReply(raw, emailFrom);
  try {
    // An agent's key posts replies to its teams' cases only (an `inbound` key to every case).
    await allowed?.(reply.caseId);
    await service.act(reply.caseId, 'reply', { from: reply.from, text: reply.text, subject: reply.subject, messageId: reply.messageId, by: reply.from }, reply.messageId);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) throw unmatched(`it names case ${reply.caseId}, which does not exist`);
    throw err;
  }
  return { caseId: reply.caseId, matchedBy: reply.matchedBy };
}
