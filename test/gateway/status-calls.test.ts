// The primary's /status asks each worker over IPC: one round trip per worker per refresh (its
// status and its dashboard's sample together), not two (finding A1: status, then dashboard, one
// after the other). A fixture counts the calls each worker gets.
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, sleep, sluice, upstream } from './helpers.js';

afterEach(cleanup);

describe('sluice gateway --workers 2: /status', () => {
  it('costs one call per worker: the worker answers its status and its dashboard sample together', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const started = performance.now();
    const s = sluice(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '8'], ['--import', './test/gateway/fixtures/count-calls.mjs']);
    const l = await s.waitFor('listening', WORKERS_START_MS);
    const gw = Object.assign(s, { url: String(l['url']), adminUrl: String(l['adminUrl']) });
    expect((await get(`${gw.url}/x`)).status).toBe(200);
    const N = 40;
    let pids: number[] = [];
    for (let i = 0; i < N; i++) {
      const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { workers: { pid: number; status: unknown }[] };
      expect(st.workers.every((w) => w.status !== undefined)).toBe(true);
      pids = st.workers.map((w) => w.pid);
    }
    // The dashboard still has the workers' samples (they came with their status).
    const snap = JSON.parse((await get(`${gw.adminUrl}/dashboard/snapshot`)).body) as { groups: unknown[] };
    expect(snap.groups).toHaveLength(1);
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    const counts = new Map<number, Record<string, number>>();
    for (let i = 0; i < 100 && counts.size < 2; i++) {
      for (const m of gw.stderr().matchAll(/calls to (\d+): (\{.*\})/g)) counts.set(Number(m[1]), JSON.parse(m[2]!) as Record<string, number>);
      await sleep(100);
    }
    const alive = Math.ceil((performance.now() - started) / 1000);
    expect(counts.size).toBe(2);
    for (const c of counts.values()) {
      const total = Object.values(c).reduce((a, b) => a + b, 0);
      // A refresh per /status, one at start, one a second from the timer: one call each (two
      // calls each would be at least 2·(N + 1)).
      expect(total).toBeGreaterThanOrEqual(N);
      expect(total).toBeLessThanOrEqual(N + 1 + alive + 1);
    }
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
