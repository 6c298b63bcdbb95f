// `sluice gateway --workers 2 --rate R`: the workers lease tokens from the primary, and together
// admit what one process would — never more than rate × t + burst over any stretch t, and the
// whole burst before any refusal (one bucket shared, not a share of it per worker). A real
// two-worker gateway (the CLI, spawned) in front of an upstream that notes when each request
// arrives; closed-loop clients keep every tenant's bucket in demand.
//
// Behaviour, not figures: how much of rate × t a tenant gets on a real host depends on the CPU
// the host leaves to the gateway and its clients (at load 12–19 on 2 cores the clients did not
// reach 100/s in 3 s: 0 refusals, and the old bound 'at least 80% of the rate' failed). That the leases admit the rate in full (within 2%) is proven
// on a virtual clock, over a slow lease channel, in test/shared/leased-rate-store.test.ts; the
// gateway's rate figures are the benchmark's (npm run bench:gateway).
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_TEST_MS, cleanup, gateway, sleep, upstream } from './helpers.js';

afterEach(cleanup);

/** The load runs at least this long, and until every tenant has been refused and admitted again after it — at most LOAD_CAP_MS. */
const LOAD_MIN_MS = 3_000;
const LOAD_CAP_MS = 90_000;
const REFUSALS_WANTED = 10;

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

/** One request as its client saw it: sent and answered (performance.now()), and its status (0: a connection error). */
interface Exchange {
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly status: number;
}

/** `clients` keep-alive clients per tenant, each sending its next request as soon as it has an answer, until `stop()`. */
function closedLoop(url: string, clients: number, tenants: readonly string[]): { seen: Map<string, Exchange[]>; stop: () => Promise<void> } {
  const agent = new Agent({ keepAlive: true, maxSockets: clients * tenants.length });
  const u = new URL(url);
  let running = true;
  const seen = new Map(tenants.map((t) => [t, [] as Exchange[]]));
  const one = (tenant: string): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const done = (status: number): void => {
        seen.get(tenant)!.push({ sentAt, answeredAt: performance.now(), status });
        resolve();
      };
      const req = request({ host: u.hostname, port: u.port, path: '/', agent, headers: { 'x-tenant': tenant } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', () => done(0));
      });
      req.on('error', () => done(0));
      req.end();
    });
  const loops = tenants.flatMap((t) =>
    Array.from({ length: clients }, async () => {
      while (running) await one(t);
    }),
  );
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

/** A tenant's exchanges: its first refusal's answer, and the admissions sent before it and after it. */
function judge(xs: readonly Exchange[]): { refused: number; errors: number; firstRefusalAt: number; admittedBefore: number; admittedAfter: number } {
  const refusals = xs.filter((x) => x.status === 429);
  const firstRefusalAt = Math.min(...refusals.map((x) => x.answeredAt));
  const admitted = xs.filter((x) => x.status === 200);
  return {
    refused: refusals.length,
    errors: xs.filter((x) => x.status !== 200 && x.status !== 429).length,
    firstRefusalAt,
    // A request sent after the first refusal was answered cannot have been decided before it.
    admittedBefore: admitted.filter((x) => x.sentAt < firstRefusalAt).length,
    admittedAfter: admitted.filter((x) => x.sentAt > firstRefusalAt).length,
  };
}

describe('sluice gateway --workers 2: rate limits shared by the workers', () => {
  it('two tenants of 20/s each, two workers, 8 closed-loop clients each: none admitted more than rate × t + burst, each its whole burst before its first refusal, and admitted again after it', async () => {
    const up = await arrivals();
    // A rate the clients exceed on a host at load 30 (there, 20–30 answers/s per tenant before
    // the first refusal at 100/s), so the limit binds within the cap.
    const rate = 20;
    const burst = 10;
    const tenants = ['t0', 't1'];
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', `${rate}/s`, '--burst', String(burst), '--tenant-header', 'x-tenant', '--workers', '2']);
    const startedAt = performance.now();
    const load = closedLoop(gw.url, 8, tenants);
    // However slow the host, the load goes on until the limit has bound for every tenant.
    const enough = (): boolean =>
      tenants.every((t) => {
        const j = judge(load.seen.get(t)!);
        return j.refused >= REFUSALS_WANTED && j.admittedAfter > 0;
      });
    while ((performance.now() - startedAt < LOAD_MIN_MS || !enough()) && performance.now() - startedAt < LOAD_CAP_MS) await sleep(100);
    await load.stop();
    for (const tenant of tenants) {
      const j = judge(load.seen.get(tenant)!);
      const times = up.at.get(tenant) ?? [];
      const last = times[times.length - 1] ?? startedAt;
      // Never more: all arrivals against what the bucket allows from the moment the load began
      // (nothing can be admitted before) until the last arrival — a bound without slack.
      const allowed = (rate * (last - startedAt)) / 1000 + burst;
      expect(j.errors, `${tenant}: answers neither 200 nor 429`).toBe(0);
      expect(times.length, `${tenant}: ${times.length} admitted, ${allowed.toFixed(1)} allowed`).toBeLessThanOrEqual(allowed);
      expect(j.refused, `${tenant}: refusals within ${LOAD_CAP_MS} ms`).toBeGreaterThanOrEqual(REFUSALS_WANTED);
      // One bucket for both workers: a tenant is refused only once the shared bucket is spent,
      // so its whole burst was admitted first (a worker's own half would refuse after ~5).
      expect(j.admittedBefore, `${tenant}: admitted before its first refusal`).toBeGreaterThanOrEqual(burst);
      // A refused tenant is not refused for good: its bucket refills at the rate.
      expect(j.admittedAfter, `${tenant}: admitted after its first refusal`).toBeGreaterThan(0);
      expect(times.length).toBe(load.seen.get(tenant)!.filter((x) => x.status === 200).length);
    }
  }, WORKERS_TEST_MS);
});
