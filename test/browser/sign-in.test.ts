/**
 * People sign in to the board in Chromium at a real OpenID provider (oidc-provider, its own process):
 * the board has no key form, shows who is signed in, only their teams' cases, and the case's timeline
 * names them when they act. A person of another team cannot open the case by its URL.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, SCREENSHOTS, describeWithBrowser, launchBrowser } from '../helpers/browser';
import { startOidcProvider } from '../helpers/oidc';
import { freePort } from '../helpers/processes';
import { eventually, openBody, startSystem, type System } from '../helpers/system';
import { resolveTeams } from '../../config/teams';
import { DEFAULT_ROSTER } from '../../config/settings';
import { DEFAULT_POLICY } from '../../playbook';

const { teams } = resolveTeams(
  {
    amer: { name: 'Americas', roster: {}, slack: { channel: 'C0AMER' }, policy: {}, members: {} },
    emea: { name: 'EMEA', roster: {}, slack: { channel: 'C0EMEA' }, policy: {}, members: {} },
  },
  'amer',
  { roster: DEFAULT_ROSTER, slackChannel: 'C0CASES', policy: { ...DEFAULT_POLICY } },
  [],
);
const AUTH = { groupsClaim: 'groups', emailClaim: 'email', nameClaim: 'name', groups: { 'cs-amer': { team: 'amer', role: 'agent' as const }, 'cs-emea': { team: 'emea', role: 'agent' as const } } };

let provider: Awaited<ReturnType<typeof startOidcProvider>>;
let sys: System;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  const port = await freePort();
  provider = await startOidcProvider({
    redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
    people: { ana: { email: 'ana@vendor.example', name: 'Ana Ruiz', groups: ['cs-amer'] }, eva: { email: 'eva@vendor.example', name: 'Eva Berg', groups: ['cs-emea'] } },
  });
  [sys, browser] = await Promise.all([
    startSystem({ port, teams, signIn: { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, scopes: 'openid email profile groups', secret: 'browser-sign-in-secret-0123456789abcdef', ttlMs: 3_600_000, idleMs: 3_600_000, auth: AUTH } }),
    launchBrowser(),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await provider?.stop();
});

/** Signs in at the provider's own pages: its login form, then its consent. */
async function signInAs(page: Page, login: string) {
  await page.goto(`${sys.base}/board`);
  await page.getByRole('link', { name: 'Sign in with your company account' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${sys.base}/board`);
}

describeWithBrowser('signing in to the board with the identity provider (Chromium)', () => {
  test('a person signs in, sees only their team’s cases, acts, and the timeline names them; another team’s person cannot open the case', async () => {
    const ours = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'amer', title: 'Amer sync down' }) });
    const theirs = await sys.call('POST', '/escalations', { key: 'agent', body: openBody({ team: 'emea', title: 'EMEA invoices odd' }) });
    await eventually(() => sys.call('GET', '/escalations?status=open'), (r) => r.body.items.length >= 2, 'both cases listed');

    const ctx = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${sys.base}/board`);
    expect(await page.locator('#key').isVisible()).toBe(false); // no key form with a provider
    await signInAs(page, 'ana');
    await page.getByText('Signed in as Ana Ruiz (ana@vendor.example)').waitFor();
    await page.getByRole('link', { name: 'Amer sync down' }).waitFor();
    expect(await page.locator('#rows').textContent()).not.toContain('EMEA invoices odd');

    await page.getByRole('link', { name: 'Amer sync down' }).click();
    await page.locator('#form-acknowledge').getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('#case-state', { hasText: 'Stage: investigate' }).waitFor();
    expect(await page.locator('.timeline').textContent()).toContain('Ana Ruiz <ana@vendor.example>');
    await page.screenshot({ path: join(SCREENSHOTS, 'board-signed-in.png'), fullPage: true });
    const view = await sys.call('GET', `/escalations/${ours.body.id}`);
    expect(view.body.timeline.find((e: { type: string }) => e.type === 'acknowledged').actor).toEqual({ name: 'Ana Ruiz', email: 'ana@vendor.example' });

    // Signed out: the board asks to sign in again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with your company account' }).waitFor();
    await ctx.close();

    // Eva (EMEA) opens the Americas case by its URL: the board says there is no such case.
    const other = await browser.newContext();
    const evaPage = await other.newPage();
    await signInAs(evaPage, 'eva');
    await evaPage.getByRole('link', { name: 'EMEA invoices odd' }).waitFor();
    const direct = await evaPage.evaluate(async (id) => (await fetch(`/escalations/${id}`)).status, ours.body.id as string);
    expect(direct).toBe(404);
    await evaPage.goto(`${sys.base}/board/cases/${ours.body.id}`);
    await evaPage.getByText('No such case.').waitFor();
    expect(theirs.status).toBe(201);
    await other.close();
  });
});
