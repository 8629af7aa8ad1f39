/**
 * The reply-extraction test set: real replies from eleven mail clients (mailgun/talon's standard
 * replies), and the formats customers write in — above the quote and below it, attribution lines in
 * English, German, French, Spanish, Portuguese, Dutch, Russian and Japanese, Outlook's header block, a
 * forwarded message. Every one must record only the customer's new words.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { newText } from '../../api/inbound';

const TALON = join(__dirname, '..', 'fixtures', 'replies', 'talon');

describe("eleven mail clients' real replies (mailgun/talon's standard replies)", () => {
  const files = readdirSync(TALON).filter((f) => f.endsWith('.eml'));
  test('all twelve are here', () => expect(files.length).toBe(12));
  test.each(files)('%s records "Hello"', async (file) => {
    const mail = await simpleParser(readFileSync(join(TALON, file)));
    expect(newText(mail.text ?? '')).toBe('Hello');
  });
});

const QUOTE = '> We deployed the fix this morning.\n> Best, Sam\n';
const LANGUAGES: [string, string, string, string][] = [
  // language, the customer's words, an attribution above the quote (top posting), one below it (bottom posting)
  ['English', 'It works now, thanks.', 'On Mon, Dec 1, 2026 at 3:00 PM Sam Carter <sam@vendor.example> wrote:', 'On 12/01/2026 03:00 PM, Sam Carter wrote:'],
  ['German', 'Es funktioniert wieder, danke.', 'Am Mo., 1. Dez. 2026 um 15:00 Uhr schrieb Sam Carter <sam@vendor.example>:', 'Am 01.12.2026 um 15:00 schrieb Sam Carter:'],
  ['French', 'Ça marche, merci.', 'Le lun. 1 déc. 2026 à 15:00, Sam Carter <sam@vendor.example> a écrit :', 'Le 01/12/2026 à 15:00, Sam Carter a écrit :'],
  ['Spanish', 'Ya funciona, gracias.', 'El lun, 1 dic 2026 a las 15:00, Sam Carter (<sam@vendor.example>) escribió:', 'El 01/12/2026 a las 15:00, Sam Carter escribió:'],
  ['Portuguese', 'Já funciona, obrigado.', 'Em seg., 1 de dez. de 2026 às 15:00, Sam Carter <sam@vendor.example> escreveu:', 'Em 01/12/2026 15:00, Sam Carter escreveu:'],
  ['Dutch', 'Het werkt weer, bedankt.', 'Op ma 1 dec. 2026 om 15:00 schreef Sam Carter <sam@vendor.example>:', 'Op 01-12-2026 om 15:00 schreef Sam Carter:'],
  ['Russian', 'Всё работает, спасибо.', '1 дек. 2026 г., в 15:00, Sam Carter <sam@vendor.example> написал(а):', '01.12.2026 15:00 пользователь "sam@vendor.example" <sam@vendor.example> написал:'],
  ['Japanese', '直りました。ありがとうございます。', '2026年12月1日(月) 15:00 Sam Carter <sam@vendor.example>:', '2026年12月1日 15:00 Sam Carter <sam@vendor.example>:'],
];

describe('attribution lines in eight languages, above the quote and below it', () => {
  test.each(LANGUAGES)('%s: replying above the quote', (_language, words, above) => {
    expect(newText(`${words}\n\n${above}\n${QUOTE}`)).toBe(words);
    expect(newText(`${words}\r\n\r\n${above}\r\n${QUOTE.replace(/\n/g, '\r\n')}`)).toBe(words);
  });
  test.each(LANGUAGES)('%s: replying below the quote', (_language, words, _above, below) => {
    expect(newText(`${below}\n${QUOTE}\n${words}\n`)).toBe(words);
  });
  test('a name-only attribution ("Sam Carter wrote:") goes too; the customer’s own "see below:" stays', () => {
    expect(newText(`Sam Carter wrote:\n${QUOTE}\nFixed on our side.`)).toBe('Fixed on our side.');
    expect(newText(`My answers, see below:\n${QUOTE}\nYes, since Monday.`)).toBe('My answers, see below:\n\nYes, since Monday.');
  });
  test('answers between the quoted lines are all kept, in order', () => {
    expect(newText('On Mon, Dec 1, 2026 Sam <sam@vendor.example> wrote:\n> Does it fail every night?\nOnly on Mondays.\n> Any error?\nA timeout.\n')).toBe('Only on Mondays.\nA timeout.');
  });
});

describe("Outlook's header block and forwarded messages", () => {
  const OUTLOOK = [
    ['English', 'It works now, thanks.', 'From: Sam Carter <sam@vendor.example>\nSent: Monday, December 1, 2026 3:00 PM\nTo: Dana Reyes <dana@acme.example>\nSubject: Re: Data sync failing'],
    ['German', 'Es funktioniert, danke.', 'Von: Sam Carter <sam@vendor.example>\nGesendet: Montag, 1. Dezember 2026 15:00\nAn: Dana Reyes <dana@acme.example>\nBetreff: Re: Data sync failing'],
    ['"Original Message"', 'It works now, thanks.', '-----Original Message-----\nFrom: Sam Carter [mailto:sam@vendor.example]\nSent: Monday, December 1, 2026 3:00 PM\nTo: Dana Reyes\nSubject: Re: Data sync failing'],
  ];
  test.each(OUTLOOK)("Outlook's %s header block: only the words above it", (_name, words, header) => {
    expect(newText(`${words}\n\n${header}\n\nWe deployed the fix this morning.\nBest, Sam\n`)).toBe(words);
  });
  const FORWARDS = [
    ['Gmail', '---------- Forwarded message ---------\nFrom: Admin <admin@acme.example>\nDate: Mon, Dec 1, 2026 at 2:00 PM\nSubject: sync error\nTo: Dana Reyes <dana@acme.example>'],
    ['Apple Mail', 'Begin forwarded message:\n\nFrom: Admin <admin@acme.example>\nSubject: sync error\nDate: 1 December 2026 at 14:00:00 CET\nTo: Dana Reyes <dana@acme.example>'],
    ['Thunderbird', '-------- Forwarded Message --------\nSubject: \tsync error\nDate: \tMon, 1 Dec 2026 14:00:00 +0100\nFrom: \tAdmin <admin@acme.example>'],
    ['German Gmail', '---------- Weitergeleitete Nachricht ---------\nVon: Admin <admin@acme.example>\nDate: Mo., 1. Dez. 2026 um 14:00 Uhr'],
  ];
  test.each(FORWARDS)('a message forwarded by %s: the note above it', (_client, separator) => {
    expect(newText(`Forwarding what our admin saw.\n\n${separator}\n\nThe sync failed again at 13:58.\n`)).toBe('Forwarding what our admin saw.');
  });
});
