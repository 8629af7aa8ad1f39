import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
/** Screenshots of the browser tests, kept with the test output (not committed). */
export const SCREENSHOTS = join(__dirname, '..', '..', '.data', 'screenshots');

/** `describe` where Chromium is installed; elsewhere skipped, with a message saying why. */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (!CHROMIUM) console.warn(`${name}: skipped, no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)`);
  (CHROMIUM ? describe : describe.skip)(name, fn);
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
}
