// A real Chromium for the dashboard tests: Debian's package, driven by playwright-core (no
// browser download). Without it the browser tests skip with one loud line; with CI=true a
// missing browser is a failure (.ci/run installs it).
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Dashboard } from '../../src/dashboard/index.js';
import { onCleanup } from '../gateway/helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const runBrowser = hasChromium || process.env['CI'] === 'true';
if (!runBrowser) console.warn('!!! SKIPPING browser tests: /usr/bin/chromium is missing (apt-get install -y chromium) !!!');

/**
 * How long Chromium may take to start: a hang guard, not a figure. It took 28 s at load 40 on
 * this 2-core host (2026-12-05), more than a page's whole test at load 1.
 */
export const BROWSER_START_MS = 180_000;

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: BROWSER_START_MS });
}

/**
 * One Chromium for the tests of the enclosing describe, started before them within
 * {@link BROWSER_START_MS} and closed after them: a test's own timeout then bounds what the page
 * does, not how long a busy host takes to start a browser.
 */
export function sharedBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  }, BROWSER_START_MS + 10_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined) throw new Error('sharedBrowser(): Chromium is not started (call it in a describe, use the browser in its tests)');
    return browser;
  };
}

/** A node:http server answering with `d` (418 'mine' for the paths it leaves), closed with the dashboard after the test; its URL. */
export async function serveDashboard(d: Dashboard): Promise<string> {
  const server = createServer((req, res) => {
    if (!d.handle(req, res)) res.writeHead(418).end('mine');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(async () => {
    d.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
