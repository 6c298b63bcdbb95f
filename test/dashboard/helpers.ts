// A real Chromium for the dashboard tests: Debian's package, driven by playwright-core (no
// browser download). Without it the browser tests skip with one loud line; with CI=true a
// missing browser is a failure (.ci/run installs it).
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const runBrowser = hasChromium || process.env['CI'] === 'true';
if (!runBrowser) console.warn('!!! SKIPPING browser tests: /usr/bin/chromium is missing (apt-get install -y chromium) !!!');

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
