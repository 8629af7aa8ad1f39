/**
 * The built-in SMTP receiver for customer replies (INBOUND_SMTP_PORT): each message goes down the same
 * path as POST /inbound/email. An unmatched or empty reply is refused with 550 and the reason, so the
 * sender's server bounces it; a transient fault (Temporal away) answers 451 and the sender retries.
 */
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../config/logger';
import { toHttpError } from './errors';
import { INBOUND_LIMIT_BYTES, receiveReply } from './inbound';
import type { EscalationService } from './service';

export async function startInboundSmtp(o: { port: number; service: EscalationService; emailFrom: string; logger: Logger; host?: string }): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: INBOUND_LIMIT_BYTES,
    banner: 'escalations inbound',
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(Object.assign(new Error('Message too large'), { responseCode: 552 }));
        }
        receiveReply(o.service, Buffer.concat(chunks), o.emailFrom).then(
          (r) => {
            o.logger.info({ caseId: r.caseId, matchedBy: r.matchedBy }, 'customer reply received by SMTP');
            callback();
          },
          (err: unknown) => {
            // The API's answer decides: a refusal (4xx: no case, closed, empty) bounces; Temporal away is retried.
            const http = toHttpError(err);
            o.logger.warn({ status: http.status, code: http.code }, 'customer reply refused by SMTP');
            callback(Object.assign(new Error(http.message), { responseCode: http.status < 500 ? 550 : 451 }));
          },
        );
      });
    },
  });
  server.on('error', (err) => o.logger.error({ err: err.message }, 'inbound SMTP error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
