import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, SCREENSHOTS, describeWithBrowser, launchBrowser } from '../helpers/browser';
import { KEYS, eventually, openBody, startSystem, type System } from '../helpers/system';
import { DEFAULT_POLICY } from '../../playbook';
import { resolveTeams } from '../../config/teams';
import { DEFAULT_ROSTER } from '../../config/settings';


let sys: System;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  if (!CHROMIUM) return;
  // Acknowledging is due within 3 s here, so the list can show an overdue case.
  [sys, browser] = await Promise.all([startSystem({ policy: { ...DEFAULT_POLICY, acknowledgeWithin: '3s' } }), launchBrowser()]);
  page = await browser.newPage({ timezoneId: 'Europe/Berlin', locale: 'en-US' });
}, 120_000);
afterAll(async () => {
  if (CHROMIUM) console.log(`board screenshots: ${join(SCREENSHOTS, 'board-{list,case,lint}.png')}`);
  await browser?.close();
  await sys?.stop();
});

describeWithBrowser('the team board in Chromium (GET /board)', () => {
  test('sign in with a key; open cases next deadline first, filtered; a case page with its deadlines and timeline; acknowledge; a lint refusal beside its field', async () => {
    const slow = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ severity: 'low', title: 'Invoices look odd' }) });
    const urgent = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ severity: 'critical', title: 'Payroll export down', csm: { name: 'Ana Ruiz', email: 'ana@vendor.example' } }) });
    // Acknowledged, the low case's next deadline is its first update in 48h: the critical one comes first.
    await sys.call('POST', `/escalations/${slow.body.id}/acknowledge`, { key: 'agent', body: {} });
    await eventually(
      () => sys.call('GET', '/escalations?status=open', { key: 'viewer' }),
      (r) => r.body.items.length >= 2 && r.body.items.some((i: { id: string; stage: string }) => i.id === slow.body.id && i.stage === 'investigate'),
      'both cases listed, the low one acknowledged',
    );

    await page.goto(`${sys.base}/board`);
    await page.getByLabel('API key').fill(KEYS.agent);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Payroll export down' }).waitFor();
    const titles = await page.locator('#rows tr td:first-child').allTextContents();
    expect(titles.indexOf('Payroll export down')).toBeLessThan(titles.indexOf('Invoices look odd')); // soonest deadline first
    // The list says when its cases were read (it may be a read shared by the team, a few seconds old).
    expect(await page.locator('#listed').textContent()).toMatch(/^Listed at \d{1,2}:\d{2}:\d{2}/);
    // Past its 3-second acknowledge window, the critical case is marked overdue (the list reloads on Filter).
    await new Promise((r) => setTimeout(r, 3_500));
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('#rows tr', { hasText: 'Payroll export down' }).locator('.overdue', { hasText: /overdue by/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'board-list.png'), fullPage: true });

    await page.getByLabel('CSM (email)').fill('ana@vendor.example');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(() => page.locator('#rows tr').count(), (n) => n === 1, 'filtered to the one CSM');

    await page.getByRole('link', { name: 'Payroll export down' }).click();
    await page.getByRole('heading', { name: 'Payroll export down' }).waitFor();
    expect(await page.locator('#case-state').textContent()).toContain('Stage: acknowledge');
    expect(await page.locator('#case').textContent()).toMatch(/acknowledge: .*GMT\+1/); // the viewer's time zone
    expect(await page.locator('#case').textContent()).not.toContain('null');
    await page.screenshot({ path: join(SCREENSHOTS, 'board-case.png'), fullPage: true });

    await page.locator('#form-acknowledge').getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('#case-state', { hasText: 'Stage: investigate' }).waitFor();
    expect(await page.locator('.timeline').textContent()).toContain('agent-user');

    // The lint refuses a vague update: the reason shows beside the field, and nothing is sent.
    await page.locator('#form-update-known').fill("I'll look into it");
    await page.locator('#form-update').getByRole('button', { name: 'Send a progress update' }).click();
    await page.locator('#form-update-known-error').filter({ hasText: /./ }).waitFor();
    expect(await page.locator('#form-update-known-error').textContent()).toMatch(/look into it/i);
    expect(await page.locator('#form-update-nextUpdateAt-error').textContent()).not.toBe('');
    await page.screenshot({ path: join(SCREENSHOTS, 'board-lint.png'), fullPage: true });
    const view = await sys.call('GET', `/escalations/${urgent.body.id}`, { key: 'viewer' });
    expect(view.body.updates).toBe(0);
    expect(slow.status).toBe(201);
  });

  test('a wrong key is refused on the page; the internal emails link to the case on the board', async () => {
    const fresh = await browser.newPage();
    // The page's forms come late, as on a slow network (or a loaded CI machine, where this test once typed
    // into the sign-in form before the page had shown it): the key goes in once the form shows.
    await fresh.route('**/board/forms.json', async (r) => {
      await new Promise((done) => setTimeout(done, 1_500));
      await r.continue();
    });
    await fresh.goto(`${sys.base}/board`);
    // By keyboard alone: the labelled field, typing, Enter.
    await fresh.getByLabel('API key').waitFor();
    await fresh.getByLabel('API key').focus();
    await fresh.keyboard.type('not-a-key-at-all-000000');
    await fresh.keyboard.press('Enter');
    await fresh.getByText('That key is not valid.').waitFor();
    await fresh.close();

    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Linked from the email' }) });
    const mail = await eventually(async () => sys.smtp.received.find((r) => r.mail.subject?.includes('Linked from the email') && r.mail.text?.includes('Case:')), (r) => r !== undefined, 'the internal email');
    const link = /Case: (\S+)/.exec(mail!.mail.text!)![1];
    expect(link).toBe(`http://localhost:3000/board/cases/${opened.body.id}`);
  });
});

describeWithBrowser('the board while the worker is behind', () => {
  test('a case read before and not answered in time shows as read then, saying newer events are not shown; with the worker back, the case now', async () => {
    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Read during the burst' }) });
    // Read once by this API process: it keeps the view (api/case-reader.ts).
    const first = await sys.call('GET', `/escalations/${opened.body.id}`, { key: 'viewer' });
    expect([first.status, first.body.stale]).toEqual([200, null]);
    const p = await browser.newPage({ timezoneId: 'Europe/Berlin', locale: 'en-US' });
    await sys.pauseWorker();
    try {
      // No worker answers the page's read within the API's patience: the view read before, said to be so.
      await p.goto(`${sys.base}/board`);
      await p.getByLabel('API key').fill(KEYS.agent);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator('#rows').waitFor();
      await p.goto(`${sys.base}/board/cases/${opened.body.id}`);
      await p.getByRole('heading', { name: 'Read during the burst' }).waitFor();
      const notice = await p.locator('#case-stale').textContent({ timeout: 10_000 });
      expect(notice).toMatch(/^As read at .*: the worker did not answer within \d+ ms: newer events are not shown yet; reload in a moment\.$/);
      await p.screenshot({ path: join(SCREENSHOTS, 'board-stale.png'), fullPage: true });
    } finally {
      await sys.resumeWorker();
    }
    // The worker back: a reload is the case as it is now, with no notice.
    await eventually(
      async () => {
        await p.reload();
        await p.getByRole('heading', { name: 'Read during the burst' }).waitFor();
        return p.locator('#case-stale').count();
      },
      (n) => n === 0,
      'the case read as it is now',
      30_000,
    );
    await p.close();
  });
});

describeWithBrowser('the board with two teams', () => {
  const AMER_AGENT = 'board-amer-agent-key-0123456789';
  let teamSys: System;
  beforeAll(async () => {
    const { teams } = resolveTeams(
      { amer: { name: 'Americas', roster: {}, slack: { channel: 'C0AMER' }, policy: {}, members: {} }, emea: { name: 'EMEA', roster: {}, slack: { channel: 'C0EMEA' }, policy: {}, members: {} } },
      'amer',
      { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } },
      [],
    );
    teamSys = await startSystem({ env: sys.env, teams, moreKeys: [`amer-desk:agent:${AMER_AGENT}:amer`] });
  }, 120_000);
  afterAll(() => teamSys?.stop());

  test("a team's key lists its team's cases only; the team filter; a transfer from the case page moves the case out of sight", async () => {
    const ours = await teamSys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'amer', title: 'Ours to fix' }) });
    const theirs = await teamSys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'emea', title: 'Theirs to fix' }) });
    expect([ours.status, theirs.status]).toEqual([201, 201]);
    await eventually(() => teamSys.call('GET', '/escalations?status=open'), (r) => r.body.items.length >= 2, 'both cases listed');

    const p = await browser.newPage({ timezoneId: 'Europe/Berlin', locale: 'en-US' });
    await p.goto(`${teamSys.base}/board`);
    await p.getByLabel('API key').fill(AMER_AGENT);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('link', { name: 'Ours to fix' }).waitFor();
    expect(await p.locator('#rows').textContent()).not.toContain('Theirs to fix');
    expect(await p.locator('#rows tr', { hasText: 'Ours to fix' }).textContent()).toContain('amer');
    expect(await p.getByLabel('Team').locator('option').allTextContents()).toEqual(['any of yours', 'amer', 'emea']);
    // Their case's page is the same "no such case" as an unknown id.
    const hidden = await teamSys.call('GET', `/escalations/${theirs.body.id}`, { key: AMER_AGENT });
    expect(hidden.status).toBe(404);

    await p.getByRole('link', { name: 'Ours to fix' }).click();
    await p.getByRole('heading', { name: 'Ours to fix' }).waitFor();
    expect(await p.locator('#case-state').textContent()).toContain('team amer');
    await p.locator('#form-transfer-team').selectOption('emea');
    await p.locator('#form-transfer-reason').fill('Served from Berlin now');
    await p.locator('#form-transfer').getByRole('button', { name: 'Transfer to another team' }).click();
    await p.locator('#case-state', { hasText: 'team emea' }).waitFor();
    // The team it left still reads it; it can no longer act on it.
    const after = await teamSys.call('GET', `/escalations/${ours.body.id}`, { key: AMER_AGENT });
    expect([after.status, after.body.team, after.body.formerTeams]).toEqual([200, 'emea', ['amer']]);
    expect((await teamSys.call('POST', `/escalations/${ours.body.id}/notes`, { key: AMER_AGENT, body: { text: 'still ours?' } })).status).toBe(403);
    await p.screenshot({ path: join(SCREENSHOTS, 'board-transferred.png'), fullPage: true });
    await p.close();
  });
});
