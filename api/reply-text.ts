/**
 * A customer's new words in a reply, as real mail clients write them: above the quote or below it,
 * with an attribution line in their own language, Outlook's `From:/Sent:` header block, a forwarded
 * message. Three passes, each for what it does best:
 * 1. structure (here): quoted blocks (`>` lines) go, with the attribution line that introduces them —
 *    whatever its language, it is the line ending in a colon right before the quote — and a forward
 *    is cut at its separator;
 * 2. planer (a port of mailgun's talon): the quotations clients send without `>` (Outlook's header
 *    block, "-----Original Message-----", localized markers);
 * 3. email-reply-parser (GitHub's rules): the signature ("-- ", "Sent from my iPhone").
 * The test set (test/unit/reply-text.test.ts, fixtures in test/fixtures/replies) holds each format.
 */
import planer from 'planer';
import EmailReplyParser from 'email-reply-parser';

const QUOTED = /^\s*>/;
/**
 * An attribution: it ends in a colon and names a time or an address ("On 04/02/2012 06:26 PM, Megan
 * wrote:", "2026年12月1日 15:00 Sam <s@x>:") or says "wrote" in a language of the test set ("Sam wrote:").
 * The customer's own "see below:" has neither, and stays.
 */
const INTRODUCES = /[:：]\s*$/;
const NAMES_WHEN_OR_WHO = /\d|@/;
const WROTE = /\b(wrote|writes|schrieb|schreibt|a écrit|écrit|escribió|escreveu|schreef|scrisse|napisał|написал|написала|пишет|のメッセージ)/i;
/** A forward's separator: "---------- Forwarded message ---------" in any language, Apple's "Begin forwarded message:". */
const FORWARD = [
  /^\s*-{4,}[^-]{2,60}-{4,}\s*$/,
  /^\s*(Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié|Inicio del mensaje reenviado|Início da mensagem reencaminhada|Begin doorgestuurd bericht|Начало переадресованного сообщения|転送されたメッセージ)\s*[:：]\s*$/i,
];

/** The lines without quoted blocks and the attribution line right before each; cut at a forward. */
function structural(lines: string[]): string[] {
  const out: string[] = [];
  for (const [n, line] of lines.entries()) {
    if (FORWARD.some((f) => f.test(line))) break;
    if (!QUOTED.test(line)) {
      out.push(line);
      continue;
    }
    if (n > 0 && QUOTED.test(lines[n - 1])) continue;
    // A block's first line: the last line kept before it (blank lines aside) introduces it when it ends in a colon.
    let i = out.length - 1;
    while (i >= 0 && out[i].trim() === '') i--;
    if (i >= 0 && INTRODUCES.test(out[i]) && (NAMES_WHEN_OR_WHO.test(out[i]) || WROTE.test(out[i]))) out.splice(i);
  }
  return out;
}

/** The customer's new words (untrimmed of length: the caller cuts what a case keeps). */
export function replyText(body: string): string {
  const lines = structural(body.replace(/\r\n?/g, '\n').split('\n'));
  const unquoted = planer.extractFromPlain(lines.join('\n'));
  const visible = new EmailReplyParser().read(unquoted).getVisibleText();
  const kept = visible.split('\n').filter((l) => !QUOTED.test(l));
  while (kept.length > 0 && /^(\s*|On\b.*wrote:\s*|-+\s*Original Message\s*-+\s*)$/i.test(kept.at(-1)!)) kept.pop();
  return kept.join('\n').trim();
}
