import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** When the server took it (answered 250). */
  at: number;
  envelopeTo: string[];
  mail: ParsedMail;
}

/**
 * A real SMTP server in the test process. Recipients at reject.test are refused with 550, at busy.test
 * with 451; `refuseWhen(mail)` answers a message's DATA with 554. `holdWhen(mail)` takes a matching message's DATA and then never answers (a sender killed
 * mid-send); `onHeld` is told when that happens. `port` may be given to start again where a stopped
 * one was (the mail server down and back).
 */
export async function startSmtp(o: { port?: number } = {}) {
  const received: Received[] = [];
  /** Every message whose DATA arrived, answered or not: what a receiving server would hold. */
  const arrived: { at: number; mail: ParsedMail }[] = [];
  const state = {
    holdWhen: undefined as ((mail: ParsedMail) => boolean) | undefined,
    onHeld: undefined as ((mail: ParsedMail) => void) | undefined,
    /** Refuses a matching message once its DATA arrived (554 after the last line): the server keeps nothing. */
    refuseWhen: undefined as ((mail: ParsedMail) => boolean) | undefined,
  };
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
          arrived.push({ at: Date.now(), mail });
          if (state.holdWhen?.(mail)) {
            state.onHeld?.(mail);
            return; // never answered: the sender sees no 250
          }
          if (state.refuseWhen?.(mail)) return cb(Object.assign(new Error('Message refused'), { responseCode: 554 }));
          received.push({ at: Date.now(), envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          cb();
        })
        .catch(cb);
    },
  });
  // A sender killed mid-send resets its connection inside a transaction, which smtp-server emits as an
  // error: a real mail server drops that connection and goes on (unheard, it would fail the test file).
  const connectionErrors: Error[] = [];
  server.on('error', (err: Error) => connectionErrors.push(err));
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    arrived,
    state,
    /** Connections that ended in an error (a reset from a killed sender), dropped as a mail server drops them. */
    connectionErrors,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        // Held sessions would keep it open.
        for (const c of (server as unknown as { connections: Set<{ close(): void }> }).connections ?? []) c.close();
      }),
  };
}
export type SmtpFixture = Awaited<ReturnType<typeof startSmtp>>;
