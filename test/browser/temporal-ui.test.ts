import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { CHROMIUM, SCREENSHOTS, describeWithBrowser, launchBrowser } from '../helpers/browser';
import { freePort } from '../helpers/processes';
import { eventually, openBody, startSystem, type System } from '../helpers/system';
import { devServerEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let sys: System;
let browser: Browser;
let ui: string;
beforeAll(async () => {
  if (!CHROMIUM) return;
  const uiPort = await freePort();
  ui = `http://127.0.0.1:${uiPort}`;
  env = await devServerEnv({ uiPort });
  [sys, browser] = await Promise.all([startSystem({ env }), launchBrowser()]);
}, 120_000);
afterAll(async () => {
  if (CHROMIUM) console.log(`Temporal UI screenshots: ${join(SCREENSHOTS, 'temporal-ui-{list,timeline,details}.png')}`);
  await browser?.close();
  await sys?.stop();
  await env?.teardown();
});

describeWithBrowser("a case in the Temporal UI (the dev server's UI in Chromium)", () => {
  test('found by a search attribute under its readable id; its page names the timers after their deadlines, each send after its message, and its details lead with stage and next deadline', async () => {
    const opened = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ severity: 'critical' }) });
    const { id, workflowId } = opened.body as { id: string; workflowId: string };
    expect(workflowId).toMatch(/^escalation-acme-[0-9a-f]{10}$/);
    await sys.call('POST', `/escalations/${id}/acknowledge`, { key: 'agent', body: {} });
    await eventually(() => sys.call('GET', `/escalations/${id}`, { key: 'viewer' }), (r) => r.body.messages.every((m: { status: string }) => m.status !== 'pending'), 'the sends done');

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // The README's link to a customer's open critical cases, on this server's UI.
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const link = /http:\/\/localhost:8233(\/namespaces\/default\/workflows\?query=EscalationCustomerId\S+)/.exec(readme)![1];
    await page.goto(`${ui}${link}`);
    await page.getByText(workflowId).filter({ visible: true }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-list.png') });

    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByText('warn before first progress update').filter({ visible: true }).first().waitFor({ timeout: 20_000 }); // the timer, named after its deadline
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-timeline.png') });
    // The step's sends (one local activity, rules 5), named in the event history after each message.
    await page.getByRole('link', { name: /Event History/ }).or(page.getByRole('tab', { name: /Event History/ })).first().click();
    await page.getByText('Email acknowledgement (m3) to the customer').filter({ visible: true }).first().waitFor({ timeout: 20_000 });

    await page.getByRole('link', { name: 'User Metadata' }).or(page.getByRole('tab', { name: 'User Metadata' })).first().click();
    // The UI renders summary and details (markdown) in sandboxed frames: read every frame's text.
    const metadata = await eventually(
      async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n'),
      (text) => text.includes('[Critical] Acme Corp — Data sync failing') && /Last action:/.test(text),
      'the user metadata',
      20_000,
    );
    expect(metadata).toContain('[Critical] Acme Corp — Data sync failing');
    expect(metadata).toMatch(/Stage:\s*investigate \(open\)/);
    expect(metadata).toMatch(/Next deadline:\s*first progress update — .* for the customer, .* for the CSM/);
    expect(metadata).toMatch(/Last action:\s*Acknowledged; next update promised by .* — agent-user/);
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-details.png') });
    await page.close();
  });
});
