/** The customer's status page on a phone, in Chromium: readable without zooming or scrolling sideways, its landmarks and status. */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, SCREENSHOTS, describeWithBrowser, launchBrowser } from '../helpers/browser';
import { eventually, openBody, startSystem, type System } from '../helpers/system';

let sys: System;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  [sys, browser] = await Promise.all([startSystem(), launchBrowser()]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

describeWithBrowser('the status page on a phone (Chromium)', () => {
  test('the stage, the latest update and the next one, in the contact’s time, within a 360-pixel screen', async () => {
    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ title: 'Nightly sync fails with a very long title that has to wrap on a small screen' }) });
    const id = opened.body.id as string;
    await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: { note: 'We are reading the sync logs and will write again with what we find.', nextUpdateAt: new Date(Date.now() + 2 * 3_600_000).toISOString() } });
    const mail = await eventually(async () => sys.smtp.received.find((r) => r.envelopeTo.includes('dana@acme.example')), (m) => m !== undefined, 'the acknowledgement');
    const path = new URL(/Where your case stands, any time: (\S+)/.exec(mail!.mail.text ?? '')![1]).pathname;

    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await phone.newPage();
    await page.goto(`${sys.base}${path}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.getByRole('status').textContent()).toBe("We're investigating what you reported.");
    expect(await page.locator('main').textContent()).toMatch(/Latest update, .*E[SD]T[\s\S]*We are reading the sync logs[\s\S]*Next update by/);
    // No sideways scrolling, text at a readable size (the page's own script-free checks, in the browser).
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    expect(await page.evaluate('parseFloat(getComputedStyle(document.body).fontSize)')).toBeGreaterThanOrEqual(16);
    await page.screenshot({ path: join(SCREENSHOTS, 'status-phone.png'), fullPage: true });
    await phone.close();
  });
});
