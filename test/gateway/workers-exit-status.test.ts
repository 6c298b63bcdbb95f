// The primary's /status while a killed worker's replacement starts: the dead worker is shown
// `exited: true` under workers[], and its last status is left out of the merge — before, it was
// summed for the seconds until its replacement listened (its open connections, in-flight
// requests, all gone with it; its leases already dropped from the lease table), and its last
// store status still counted for /readyz. Its running totals are carried (status-totals.ts):
// the requests it served were served (until metricsfold they went from the sum too).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrimaryStatus } from '../../src/gateway/primary.js';
import { cleanup, get, oneLimitYaml, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

const status = async (adminUrl: string): Promise<PrimaryStatus> => JSON.parse((await get(`${adminUrl}/status`)).body) as PrimaryStatus;

describe('--workers: a worker killed (SIGKILL)', () => {
  it('is shown exited, and its last status is not summed while its replacement starts', { timeout: 240_000 }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, oneLimitYaml(up.url, 10, 'workers: 2'));
    // A replacement worker (cluster ids 3 and up: the first two are 1 and 2) sleeps 3 s before it
    // loads, so the dead worker is still in its place when /status is read — from dist/ on a busy
    // host a replacement listened before that read (1 failure in 2 runs), the window gone.
    const slowReplacement = join(tempDir(), 'slow-replacement.mjs');
    writeFileSync(slowReplacement, 'if (Number(process.env.NODE_UNIQUE_ID) > 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);\n');
    const gw = sluice(['gateway', '--config', file], ['--import', pathToFileURL(slowReplacement).href]);
    const l = await gw.waitFor('listening', 120_000);
    const [url, adminUrl] = [String(l['url']), String(l['adminUrl'])];
    for (let i = 0; i < 40; i++) expect((await get(`${url}/`)).status).toBe(200);
    // The primary's copy of each worker's status is refreshed every second.
    expect(await within(10_000, async () => (await status(adminUrl)).counters.requests === 40, 100)).toBe(true);
    const before = await status(adminUrl);
    const victim = before.workers.find((w) => (w.status?.counters.requests ?? 0) > 0)!;
    const other = before.workers.find((w) => w !== victim)!;
    const from = gw.lines.length;
    process.kill(victim.pid, 'SIGKILL');
    await gw.waitFor('worker died: its slots are back; forking a new one', 30_000, from);
    // Its replacement sleeps 3 s before it loads: the primary shows the dead one now.
    const after = await status(adminUrl);
    const dead = after.workers[victim.index]!;
    expect(dead.pid).toBe(victim.pid);
    expect(dead.exited).toBe(true);
    expect(dead.status?.counters.requests).toBe(victim.status!.counters.requests);
    expect(after.workers[other.index]!.exited).toBe(false);
    // Its levels are not summed (before session 17: its open connections still counted); its counts are carried.
    expect(after.connections).toEqual(after.workers[other.index]!.status!.connections);
    expect(after.counters.requests).toBe(40);
    expect((await get(`${adminUrl}/readyz`)).status).toBe(200);
    // The replacement listens: shown, not exited, and summed from 0.
    expect(await within(60_000, async () => (await status(adminUrl)).workers[victim.index]!.pid !== victim.pid, 200)).toBe(true);
    const replaced = await status(adminUrl);
    expect(replaced.workers[victim.index]).toMatchObject({ exited: false, restarts: 1 });
    expect(replaced.counters.requests).toBe(40);
  });
});
