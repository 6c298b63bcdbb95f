// `sluice gateway --workers 2 --rate R`: the workers lease tokens from the primary, and together
// admit what one process would — rate × t + burst over any stretch t, not much less (issue 9)
// and never more. A real two-worker gateway (the CLI, spawned) in front of an upstream that
// notes when each request arrives; closed-loop clients keep every tenant's bucket in demand.
// Bounds, not figures (±1% is the benchmark's): a shortfall of a fifth fails, as an excess over
// the bucket beyond what a busy host's delays can blur (the exact bound: test/shared/leased-rate-store.test.ts).
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, sleep, upstream } from './helpers.js';

afterEach(cleanup);

const TEST_MS = 240_000;

/** An upstream that answers at once and notes each arrival (performance.now()) per tenant. */
async function arrivals(): Promise<{ url: string; at: Map<string, number[]> }> {
  const at = new Map<string, number[]>();
  const up = await upstream((req, res) => {
    const tenant = String(req.headers['x-tenant'] ?? '');
    let list = at.get(tenant);
    if (list === undefined) at.set(tenant, (list = []));
    list.push(performance.now());
    res.end('ok');
  });
  return { url: up.url, at };
}

/** `clients` keep-alive clients per tenant, each sending its next request as soon as it has an answer, until `stop()`. */
function closedLoop(url: string, clients: number, tenants: readonly string[]): { refused: () => number; errors: () => number; stop: () => Promise<void> } {
  const agent = new Agent({ keepAlive: true, maxSockets: clients * tenants.length });
  const u = new URL(url);
  let running = true;
  let refused = 0;
  let errors = 0;
  const one = (tenant: string): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/', agent, headers: { 'x-tenant': tenant } }, (res) => {
        if (res.statusCode === 429) refused++;
        else if (res.statusCode !== 200) errors++;
        res.resume();
        res.on('end', resolve);
        res.on('error', () => resolve());
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const loops = tenants.flatMap((t) =>
    Array.from({ length: clients }, async () => {
      while (running) await one(t);
    }),
  );
  return {
    refused: () => refused,
    errors: () => errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

/**
 * A tenant's arrivals, judged twice. Never more: all of them against what its bucket allows
 * from the moment the load began (nothing can be admitted before) until the last arrival
 * (after the last admission), `rate × t + burst` — a bound without slack. Not much less: the
 * arrivals from `warmMs` after the first (a cold start — a worker's first connection to the
 * upstream — delays the first ones) until the last, against `rate × t` over that span (the
 * clients spend faster than the rate, so the bucket holds little when the span starts).
 */
function tally(times: readonly number[], startedAt: number, rate: number, burst: number, warmMs = 250): { admitted: number; allowed: number; steady: number; seconds: number; due: number } {
  const last = times[times.length - 1] ?? startedAt;
  const from = times.findIndex((x) => x >= times[0]! + warmMs);
  const span = from < 0 ? [] : times.slice(from);
  const seconds = span.length === 0 ? 0 : (last - span[0]!) / 1000;
  return { admitted: times.length, allowed: (rate * (last - startedAt)) / 1000 + burst, steady: span.length, seconds, due: rate * seconds };
}

describe('sluice gateway --workers 2: rate limits admitted in full, never more', () => {
  it('two tenants of 100/s each, two workers, 8 closed-loop clients each: every tenant gets at least 80% of its rate, none more than rate × t + burst', async () => {
    // A guard, within what a busy host serves: before, each worker leased one request's token
    // per round trip to the primary, and four tenants of 120/s (burst 10, 16 clients each) got
    // 52-89% of their rate on this host — but 4 × 16 clients also took the host past what it
    // serves (one worker, no limit binding, served 70%), so the exact test of the lease is
    // test/shared/leased-rate-store.test.ts, on a virtual clock.
    const up = await arrivals();
    const rate = 100;
    const burst = 25; // a quarter of a second of the rate: a busy host's stalls do not overflow it
    const tenants = ['t0', 't1'];
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', `${rate}/s`, '--burst', String(burst), '--tenant-header', 'x-tenant', '--workers', '2']);
    const startedAt = performance.now();
    const load = closedLoop(gw.url, 8, tenants);
    await sleep(3_000);
    await load.stop();
    expect(load.errors()).toBe(0);
    expect(load.refused()).toBeGreaterThan(0);
    for (const tenant of tenants) {
      const t = tally(up.at.get(tenant) ?? [], startedAt, rate, burst);
      expect(t.admitted, `${tenant}: ${t.admitted} admitted, ${t.allowed.toFixed(1)} allowed`).toBeLessThanOrEqual(t.allowed);
      expect(t.steady, `${tenant}: ${t.steady} admitted in ${t.seconds.toFixed(3)} s, ${t.due.toFixed(1)} due`).toBeGreaterThanOrEqual(0.8 * t.due);
    }
  }, TEST_MS);
});
