import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface Received {
  envelopeTo: string[];
  mail: ParsedMail;
}

/** A real SMTP server in the test process. Recipients at reject.test are refused with 550, at busy.test with 451. */
export async function startSmtp() {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@reject.test')) return cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      if (address.address.endsWith('@busy.test')) return cb(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type SmtpFixture = Awaited<ReturnType<typeof startSmtp>>;
