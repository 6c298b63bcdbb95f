// A dashboard over figures read by the user's own function (`samples`, or `groups` as a
// function): when that function throws, the page goes without a sample, the process goes on.
// Before, the throw came out of the dashboard's timer, an uncaught exception that ended the
// process, and out of a /snapshot request handler.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import type { Dashboard } from '../../src/dashboard/index.js';
import { until } from '../http/helpers.js';
import { cleanup, get, onCleanup } from '../gateway/helpers.js';

afterEach(cleanup);

function own(d: Dashboard): Dashboard {
  onCleanup(async () => d.close());
  return d;
}

describe('dashboard: a sample function that throws', () => {
  it('skips the tick, warns once (SLUICE_DASHBOARD_SAMPLE_ERROR) until a sample succeeds, and samples on', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    onCleanup(async () => void process.off('warning', onWarning));
    let calls = 0;
    const d = own(createDashboard({ intervalMs: 100, samples: () => {
      calls++;
      if (calls === 2 || calls === 3 || calls === 6) throw new Error(`metrics source failed (${calls})`);
      return [];
    } }));
    await until(() => calls >= 8, 20_000);
    await until(() => warnings.length >= 2, 5_000);
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'SLUICE_DASHBOARD_SAMPLE_ERROR');
    // Calls 2 and 3 fail in a row (one warning), 6 after a success (a second).
    expect(ours.map((w) => w.message)).toEqual([
      'sluice/dashboard: a sample failed, skipped until one succeeds: Error: metrics source failed (2)',
      'sluice/dashboard: a sample failed, skipped until one succeeds: Error: metrics source failed (6)',
    ]);
    expect(d.snapshot().groups).toEqual([]);
  });

  it('/snapshot answers 500 naming the failure, and the server goes on', async () => {
    // The constructor reads the groups once to start counting (a throw there is the caller's to
    // see); every read after it throws. No sample yet: /snapshot samples now.
    let reads = 0;
    const d = own(createDashboard({ intervalMs: 1000, groups: () => {
      if (reads++ > 0) throw new Error('groups unavailable');
      return [];
    } }));
    const server = createServer((req, res) => d.handle(req, res) || res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await get(`${url}/dashboard/snapshot`);
    expect(r.status).toBe(500);
    expect(r.body).toBe("the dashboard's sample failed: Error: groups unavailable\n");
    expect((await get(`${url}/dashboard`)).status).toBe(200);
  });
});
