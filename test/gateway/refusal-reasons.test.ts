// A refusal is counted under the reason its client was given, everywhere it is counted: a quota
// limit's refusals are `quota` in /status's per-gate counts too (they said rate_limited there
// while the answer said quota), and a full key table shared by the workers (the primary's
// lease ledger, over the IPC lease channel) is `keys_full` (503), as in one process — it was
// answered as `rate_limited` (429), as if the new tenant had spent its rate. And a quota is
// one quota across the workers (it was kept per worker: N workers, N quotas), and a limiter's
// maxKeys bounds its tenants across the workers (it was ignored: one table of 100 000 keys in
// the primary for every limiter).
import { afterEach, describe, expect, it } from 'vitest';
import { answerLease, IpcLimitStore } from '../../src/gateway/ipc-limit-store.js';
import type { LeaseCall } from '../../src/gateway/ipc-limit-store.js';
import { KeyedRateLimiter } from '../../src/rate/keyed.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { LeasedRateStore } from '../../src/shared/leased-rate-store.js';
import { RouteTable } from '../../src/gateway/route-table.js';
import { resolveConfig } from '../../src/gateway/validate-config.js';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

describe('refusal reasons', () => {
  it("a quota's refusals are `quota` in the answer, the counters and the gate's own stats", async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '5s', {
        routes: [{ path: '/', policy: { rateLimits: [{ name: 'burst', rate: '100/s', burst: 10 }, { name: 'daily', limit: 1, window: '1d', quota: true }] } }],
      }),
    );
    expect((await get(`${gw.url}/a`)).status).toBe(200);
    const refused = await get(`${gw.url}/a`);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ reason: 'quota' });
    const gates = gw.status().policies[0]!.gates;
    const daily = gates.find((g) => g.name.endsWith('-daily'))!;
    expect(daily.rejected).toMatchObject({ quota: 1, rate_limited: 0 });
    const burst = gates.find((g) => g.name.endsWith('-burst'))!;
    expect(burst.rejected).toMatchObject({ quota: 0, rate_limited: 0 });
  });

  it('a full key table in the primary refuses a new tenant of a worker with keys_full, not rate_limited', async () => {
    const ledger = new LeaseLedger({ maxKeys: 2 });
    const holder = ledger.holder('worker-1');
    // The IPC channel as the worker sees it: every call and answer structured-cloned, answered by the ledger.
    const ipc: IpcLimitStore = new IpcLimitStore((m: LeaseCall) => {
      const call = structuredClone(m);
      void answerLease(holder, call).then((result) => ipc.handle(structuredClone({ t: 'lease-reply', id: call.id, result })));
      return true;
    });
    const store = new LeasedRateStore(ipc, { prefix: 'p/limit:', holdMs: 60_000, maxKeys: 100, batchOf: () => 0 });
    const limiter = new KeyedRateLimiter({ name: 'limit', policy: { algorithm: 'token-bucket', rate: 1, perMs: 60_000, burst: 1 }, store });
    try {
      expect((await limiter.admit({ key: 'a' })).ok).toBe(true);
      expect((await limiter.admit({ key: 'b' })).ok).toBe(true);
      // Nothing evicted yet: c is new, admitted; a (the first to refill) is evicted into the floor.
      expect((await limiter.admit({ key: 'c' })).ok).toBe(true);
      // d may be a tenant the table forgot: it starts from the floor (a spent bucket), refused keys_full.
      expect(await limiter.admit({ key: 'd' })).toMatchObject({ ok: false, reason: 'keys_full' });
      // Asked again before the store's Retry-After: refused here without a call, still keys_full.
      expect(await limiter.admit({ key: 'd' })).toMatchObject({ ok: false, reason: 'keys_full' });
      // A known tenant over its rate is rate_limited, as ever.
      expect(await limiter.admit({ key: 'b' })).toMatchObject({ ok: false, reason: 'rate_limited' });
      expect(limiter.stats().rejected).toMatchObject({ keys_full: 2, rate_limited: 1 });
    } finally {
      store.close();
      await ipc.close();
    }
  });

  it('a quota is one quota across the workers, leased from the primary like every rate', async () => {
    const ledger = new LeaseLedger();
    const config = resolveConfig(
      oneRoute('http://127.0.0.1:9', '5s', { routes: [{ path: '/', policy: { rateLimits: [{ name: 'daily', limit: 10, window: '1d', quota: true }] } }] }),
    );
    // Two workers' route tables, each with its own lease store on one ledger (the primary's).
    const tables = ['worker-1', 'worker-2'].map((id) => new RouteTable(config, undefined, undefined, { store: ledger.holder(id), workers: 2, onError: () => undefined }));
    try {
      const quotas = tables.map((t) => [...t.policies.values()][0]!.admission.rates[0]!);
      const answers = [];
      for (let i = 0; i < 30; i++) answers.push(await quotas[i % 2]!.admit({ key: 'ip:1' }));
      expect(answers.filter((a) => a.ok).length).toBe(10);
      expect(answers.slice(10).every((a) => !a.ok && a.reason === 'quota')).toBe(true);
    } finally {
      for (const t of tables) for (const u of t.upstreams.values()) await u.pool.destroy();
    }
  });

  it("a limiter's maxKeys bounds its tenants across the workers, in a table of its own", async () => {
    const ledger = new LeaseLedger();
    const config = resolveConfig(
      oneRoute('http://127.0.0.1:9', '5s', {
        routes: [
          { path: '/a', policy: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/min', burst: 1, maxKeys: 5 }] } },
          { path: '/b', policy: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '2/min', burst: 2 }] } },
        ],
      }),
    );
    const tables = ['worker-1', 'worker-2'].map((id) => new RouteTable(config, undefined, undefined, { store: ledger.holder(id), workers: 2, onError: () => undefined }));
    try {
      const gate = (t: RouteTable, i: number): KeyedRateLimiter => [...t.policies.values()][i]!.admission.rates[0] as KeyedRateLimiter;
      const a = [];
      for (let i = 0; i < 10; i++) a.push(await gate(tables[i % 2]!, 0).admit({ key: `key:k${i}` }));
      // Five fit; the sixth is new (nothing evicted yet) and evicts one into the floor, a spent
      // bucket; the rest start from it and are refused keys_full.
      expect(a.map((x) => (x.ok ? 'ok' : x.reason))).toEqual([...Array(6).fill('ok'), ...Array(4).fill('keys_full')]);
      // The other policy's limiter has a table of its own: the first one's full table is not its problem.
      for (let i = 0; i < 10; i++) expect((await gate(tables[i % 2]!, 1).admit({ key: `key:k${i}` })).ok).toBe(true);
    } finally {
      for (const t of tables) for (const u of t.upstreams.values()) await u.pool.destroy();
    }
  });
});
