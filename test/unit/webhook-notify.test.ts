/**
 * Who is told when an endpoint answers 410: `webhooks.notify` when the config names anyone, else each
 * team's support lead (once each), by a real SMTP server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookActivities } from '../../activities/webhooks';
import { SmtpMailer } from '../../activities/email';
import { loadEscalationConfig } from '../../config/settings';
import { startSmtp, type SmtpFixture } from '../helpers/smtp';
import { newSecret } from '../helpers/webhook-receiver';

let smtp: SmtpFixture;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp?.close());

const dir = mkdtempSync(join(tmpdir(), 'notify-'));
function configWith(webhooks: object) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      roster: { supportLead: { name: 'Lee', email: 'lee@vendor.example' } },
      teams: {
        amer: { name: 'Americas' },
        emea: { name: 'EMEA', roster: { supportLead: { name: 'Eva', email: 'eva@vendor.example' } } },
        apac: { name: 'APAC' },
      },
      defaultTeam: 'amer',
      webhooks: { allowPrivateTargets: true, endpoints: [{ id: 'crm', url: 'http://127.0.0.1:9/crm', secrets: [newSecret()] }], ...webhooks },
    }),
  );
  return loadEscalationConfig(path);
}

async function disabledNoticeTo(webhooks: object): Promise<string[]> {
  const c = configWith(webhooks);
  const at = new Date(Date.now() + Math.floor(Math.random() * 1e9)).toISOString();
  const activities = createWebhookActivities({ config: c.webhooks, teams: c.teams, mailer: new SmtpMailer(smtp.url), emailFrom: 'escalations@vendor.example' });
  await activities.notifyWebhookDisabled({ endpoint: 'crm', url: 'http://127.0.0.1:9/crm', deliveryId: 'msg_crm_acme-1_3', caseId: 'acme-1', at });
  const mail = smtp.received.find((m) => m.mail.messageId === `<webhook-disabled.crm.${Date.parse(at)}@vendor.example>`);
  expect(mail?.mail.subject).toBe('Webhook endpoint "crm" disabled: it answered 410 Gone');
  return [...mail!.envelopeTo].sort();
}

test("with no notify in the config, each team's support lead is told, once each", async () => {
  // amer and apac fall back on the top-level lead: Lee once; emea has its own.
  expect(await disabledNoticeTo({})).toEqual(['eva@vendor.example', 'lee@vendor.example']);
});

test('notify names who is told, and only them', async () => {
  expect(await disabledNoticeTo({ notify: ['ops@vendor.example'] })).toEqual(['ops@vendor.example']);
});
