/** The part of email-reply-parser (2.x, no types of its own) the inbound path uses. */
declare module 'email-reply-parser' {
  interface Email {
    getVisibleText(options?: { aggressive?: boolean }): string;
  }
  export default class EmailReplyParser {
    read(text: string): Email;
    parseReply(text: string): string;
  }
}
