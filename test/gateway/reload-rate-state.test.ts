// A reload that changes a policy's other settings (its concurrency limit here) leaves its rate
// limits' buckets as they were: a tenant that spent its burst, or its quota, is still refused
// after the reload. Before, the changed policy got fresh buckets — every tenant a new burst and
// a new quota at each such reload (with --workers 2 too: the primary keyed them by the policy's
// hash). A rate of 1/h: nothing refills while the test runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { cleanup, get, oneLimitYaml, sluice, startInProcess, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

type RateLimit = Record<string, unknown>;
const HOURLY: RateLimit = { name: 'hourly', rate: '1/h', burst: 2 };
const QUOTA: RateLimit = { name: 'daily', limit: 2, window: '1d', quota: true };

function config(up: string, limit: number, rateLimits: RateLimit[], maxKeys?: number): GatewayConfig {
  const limits = maxKeys === undefined ? rateLimits : rateLimits.map((r) => ({ ...r, maxKeys }));
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    upstreams: { app: { url: up, timeout: '30s' } },
    policies: { api: { rateLimits: limits, concurrency: { limit, queue: 10, queueTimeout: '30s' } } },
    routes: [{ path: '/', policy: 'api' }],
  } as GatewayConfig;
}

async function statuses(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(`${url}/x`)).status);
  return out;
}

/** Rate-limiter sweeps (LeasedRateStore's intervals) started while `f` runs and not stopped by its end (unref'd ones too). */
async function sweepsLeft(f: () => Promise<void>): Promise<number> {
  const live = new Set<unknown>();
  const set = vi.spyOn(globalThis, 'setInterval').mockImplementation(((...a: Parameters<typeof setInterval>) => {
    const t = realSet(...a);
    if (new Error().stack?.includes('leased-rate-store') === true) live.add(t);
    return t;
  }) as typeof setInterval);
  const clear = vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t: Parameters<typeof clearInterval>[0]) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearInterval);
  try {
    await f();
  } finally {
    set.mockRestore();
    clear.mockRestore();
  }
  return live.size;
}
const realSet = globalThis.setInterval;
const realClear = globalThis.clearInterval;

describe('reload of a policy whose rate limits are unchanged', () => {
  for (const [what, limits] of [['a spent burst', [HOURLY]], ['a spent quota', [QUOTA]]] as const) {
    it(`keeps ${what} (one process)`, async () => {
      const up = await upstream((_req, res) => res.end('ok'));
      const gw = await startInProcess(config(up.url, 5, [...limits]));
      expect(await statuses(gw.url, 3)).toEqual([200, 200, 429]);
      await gw.reload(config(up.url, 4, [...limits]));
      expect(await statuses(gw.url, 2)).toEqual([429, 429]);
    });
  }

  it('keeps a spent burst through the shared home of the workers (a lease ledger), and no reload leaves a timer behind', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const ledger = new LeaseLedger();
    const share = { store: ledger.holder('w1'), workers: 1, onError: () => undefined };
    const gw = await startInProcess(config(up.url, 5, [HOURLY]), { share });
    expect(await statuses(gw.url, 3)).toEqual([200, 200, 429]);
    await gw.reload(config(up.url, 4, [HOURLY]));
    expect(await statuses(gw.url, 2)).toEqual([429, 429]);
    // Reloads that rebuild the rate limiter (its maxKeys changes), then one that rebuilds only the
    // policy around it: the new limiter's store sweeps (its held tokens go back), every
    // replaced one stopped; the store taken over by the last reload is not.
    const left = await sweepsLeft(async () => {
      for (let i = 0; i < 20; i++) await gw.reload(config(up.url, 3 + (i % 2), [HOURLY], i % 4 < 2 ? 1000 : 1001));
      await gw.reload(config(up.url, 5, [HOURLY]));
      // The first config's limiter again: it starts afresh, as in one process — the ledger forgot
      // its table when the first of these reloads retired it (until session 18 it kept every
      // table it had seen, for good).
      expect(await statuses(gw.url, 3)).toEqual([200, 200, 429]);
      await gw.reload(config(up.url, 4, [HOURLY]));
    });
    expect(left).toBe(1);
    expect(await statuses(gw.url, 1)).toEqual([429]);
    expect(ledger.tokenTables().count).toBe(1);
  });

  it('--workers 2: a spent burst stays spent across a SIGHUP that changes the concurrency limit', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    // One policy p of `limit` slots, with a rate limit of a burst of 4 that never refills here.
    const yaml = (limit: number): string =>
      oneLimitYaml(up.url, limit, 'workers: 2').replace(`p: { concurrency: { limit: ${limit} } }`, `p: { rateLimits: [ { name: hourly, rate: 1/h, burst: 4 } ], concurrency: { limit: ${limit} } }`);
    writeFileSync(file, yaml(5));
    const gw = sluice(['gateway', '--config', file]);
    const START_MS = 120_000;
    const url = String((await gw.waitFor('listening', START_MS))['url']);
    // Each request on its own connection: the kernel spreads them over both workers.
    const first = await statuses(url, 8);
    expect(first.filter((s) => s === 200)).toHaveLength(4);
    const from = gw.lines.length;
    writeFileSync(file, yaml(4));
    gw.child.kill('SIGHUP');
    const reloaded = await within(START_MS, () => gw.lines.slice(from).some((l) => l.includes('"msg":"reloaded"') && l.includes('"workers":2')));
    expect(reloaded, gw.lines.slice(from).join('\n')).toBe(true);
    expect(await statuses(url, 6)).toEqual([429, 429, 429, 429, 429, 429]);
  }, 300_000);
});
