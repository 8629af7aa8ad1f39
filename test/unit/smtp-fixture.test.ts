import { connect } from 'node:net';
import { createTransport } from 'nodemailer';
import { startSmtp } from '../helpers/smtp';

/**
 * The tests' SMTP server outlives a sender killed mid-send: its connection is reset inside a mail
 * transaction (MAIL FROM given), as when a worker is SIGKILLed while it sends. A real mail server drops
 * that connection and goes on; before, the reset was an uncaught error that failed the whole test file
 * ("read ECONNRESET", seen in test/cluster/stack.test.ts's worker kill).
 */
test('a connection reset inside a mail transaction is dropped; the server goes on taking mail', async () => {
  const smtp = await startSmtp();
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(smtp.port, '127.0.0.1');
      let said = '';
      socket.on('data', (b) => {
        said += b.toString();
        if (/^220 /m.test(said) && !said.includes('EHLO sent')) {
          said += 'EHLO sent';
          socket.write('EHLO killed.example\r\n');
        } else if (/^250 /m.test(said) && !said.includes('MAIL sent')) {
          said += 'MAIL sent';
          socket.write('MAIL FROM:<escalations@vendor.example>\r\n');
        } else if (said.includes('MAIL sent') && /250 Accepted/.test(said.split('MAIL sent')[1])) {
          socket.resetAndDestroy(); // a TCP reset, as from a killed process's socket
          resolve();
        }
      });
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.connectionErrors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ECONNRESET');
    await createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true }).sendMail({ from: 'escalations@vendor.example', to: 'dana@acme.example', subject: 'After the reset', text: 'Still here.' });
    expect(smtp.received.map((r) => r.mail.subject)).toEqual(['After the reset']);
  } finally {
    await smtp.close();
  }
});
