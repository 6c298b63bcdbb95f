// A dashboard page left open for a long time, in virtual time: 20,000 samples fed to the page's
// own apply() (a day and more at 100 ms each is the same) — each chart keeps the dashboard's
// history (historySeconds / intervalMs samples), and a group that is no longer sampled (a
// reload renamed its policy) leaves the page rather than stay as a dead card.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { cleanup, onCleanup } from '../gateway/helpers.js';
import { runBrowser, serveDashboard, sharedBrowser } from './helpers.js';

afterEach(cleanup);

describe.runIf(runBrowser)('dashboard page bounds in Chromium', () => {
  const browser = sharedBrowser();
  // The bounds are hang guards (Chromium beside a CPU hog is slow to draw anything), not figures.
  it('20,000 samples: charts keep historySeconds of them; groups gone from the samples leave the page', { timeout: 150_000 }, async () => {
    const d = createDashboard({ groups: [{ name: 'live', gates: [new ConcurrencyGate({ name: 'live', limit: 1 })] }], intervalMs: 100, historySeconds: 10 });
    const url = await serveDashboard(d);
    const page = await browser().newPage();
    onCleanup(() => page.close());
    await page.goto(`${url}/dashboard`, { timeout: 60_000 });
    await page.waitForFunction('Number(document.body.dataset.samples || 0) > 0', undefined, { timeout: 60_000 });
    const template = JSON.stringify(d.snapshot().groups[0]);
    // Every 1,000th sample a reload renames the policy: policy-0, policy-1, ... (a string: the
    // page's script, its top-level const groups included, is in its own global scope).
    const shown = await page.evaluate(`(() => {
      const g = ${template};
      for (let i = 0; i < 20000; i++) apply({ t: Date.now() + i * 100, groups: [{ ...g, name: 'policy-' + Math.floor(i / 1000) }] });
      const last = groups.get('policy-19');
      return {
        historyLength: window.historyLength,
        cards: document.querySelectorAll('section.group').length,
        groups: [...groups.keys()],
        t: last && last.t.length,
        longestSeries: Math.max(...Object.values(last ? last.series : {}).map((v) => v.length)),
      };
    })()`);
    expect(shown).toEqual({ historyLength: 100, cards: 1, groups: ['policy-19'], t: 100, longestSeries: 100 });
  });
});
