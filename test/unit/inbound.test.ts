import { caseOf, newText } from '../../api/inbound';
import { replyAddressFor } from '../../activities/email';

describe('matching a customer reply to its case', () => {
  test('by In-Reply-To or References naming a case email, In-Reply-To first, then References', () => {
    expect(caseOf({ inReplyTo: '<escalation-esc-0a1b.m3@vendor.example>', recipients: [] }, 'escalations')).toEqual({ caseId: 'esc-0a1b', matchedBy: 'thread' });
    // Case ids may hold dots: the message number after the last one is not part of it.
    expect(caseOf({ references: ['<other@x>', '<escalation-acme.2026.m12@vendor.example>'], recipients: [] }, 'escalations')).toEqual({ caseId: 'acme.2026', matchedBy: 'thread' });
  });

  test('by the +caseId address of the Reply-To, when the client dropped the threading headers', () => {
    expect(caseOf({ recipients: ['Escalations+esc-77@vendor.example'] }, 'escalations')).toEqual({ caseId: 'esc-77', matchedBy: 'address' });
    expect(replyAddressFor('esc-77', 'Support <escalations@vendor.example>')).toBe('escalations+esc-77@vendor.example');
  });

  test('nothing else matches: another thread, another mailbox, a malformed id', () => {
    expect(caseOf({ inReplyTo: '<abc@elsewhere>', recipients: ['support@vendor.example', 'other+esc-1@vendor.example'] }, 'escalations')).toBeNull();
    expect(caseOf({ inReplyTo: '<escalation-a b.m1@x>', recipients: [] }, 'escalations')).toBeNull();
  });
});

describe("a reply's new text", () => {
  test('quoted history, the attribution line and a "-- " signature are removed', () => {
    expect(newText('Still broken.\r\n\r\n-- \r\nPat\r\n\r\nOn Mon, Jan 5, 2026 at 3:00 PM Sam <s@x> wrote:\r\n> We fixed it.\r\n')).toBe('Still broken.');
  });
  test('a message that is only a quote has no new text', () => {
    expect(newText('> only the quote')).toBe('');
    expect(newText('On Mon, Jan 5 wrote:\n> only the quote\n')).toBe('');
  });
  test('a very long reply is cut to what a case keeps', () => {
    expect(newText('x'.repeat(10_000)).length).toBe(4_000);
  });
});
