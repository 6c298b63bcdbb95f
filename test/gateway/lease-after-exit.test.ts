// Slots granted to a worker that is gone (hostile finding L1): the primary drops a dead
// worker's slots from its ledger when the worker exits, but a slot request the worker sent just
// before it died can be read after that — and was granted to the dead holder, its slots held
// for ever: the pool's limit shrank by them, the replacement worker starved. The fixture
// (fixtures/lease-after-exit.mjs) delivers such a request after the exit, as node:cluster may.
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, sleep, sluice, upstream } from './helpers.js';

afterEach(cleanup);

interface Leases {
  readonly workers: readonly { readonly index: number; readonly pid: number; readonly status: unknown }[];
  readonly leases: Record<string, { readonly limit: number; readonly held: Record<string, number>; readonly wanted: number }>;
}

const status = async (adminUrl: string): Promise<Leases> => JSON.parse((await get(`${adminUrl}/status`)).body) as Leases;

describe('sluice gateway --workers 2: a slot request from a worker that dies on its way', () => {
  it('is not granted to the dead worker: the pool keeps its limit for the living, and the replacement gets its share', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const s = sluice(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '4'], ['--import', './test/gateway/fixtures/lease-after-exit.mjs']);
    const gw = Object.assign(s, { adminUrl: String((await s.waitFor('listening', WORKERS_START_MS))['adminUrl']) });
    const before = await status(gw.adminUrl);
    const [name, pool] = Object.entries(before.leases)[0]!;
    expect(pool.limit).toBe(4);
    const holders = Object.keys(pool.held);
    expect(holders).toHaveLength(2);
    const victim = before.workers[0]!;
    const from = gw.lines.length;
    process.kill(victim.pid, 'SIGUSR2');
    await gw.waitFor('worker died: its slots are back; forking a new one', 30_000, from);
    // Until the replacement runs and has taken its share.
    let after = await status(gw.adminUrl);
    const end = Date.now() + 30_000;
    while (Date.now() < end && (after.workers.some((w) => w.status === undefined || w.pid === victim.pid) || Object.keys(after.leases[name]!.held).length < 2)) {
      await sleep(200);
      after = await status(gw.adminUrl);
    }
    const held = after.leases[name]!.held;
    expect(gw.stderr()).toMatch(/lease-after-exit: 1 slot request\(s\) delivered after the exit of worker/);
    const dead = holders.find((h) => h.startsWith(`worker-${victim.index}-`))!;
    // Only the two living workers hold slots; the dead one's are back, the late request's too.
    expect(Object.keys(held)).toHaveLength(2);
    expect(held).not.toHaveProperty(dead);
    expect(Object.values(held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4);
    // The replacement got its share of the pool (2 of 4), not the leftovers of a leak.
    const replacement = Object.keys(held).find((h) => !holders.includes(h))!;
    expect(held[replacement]).toBe(2);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
