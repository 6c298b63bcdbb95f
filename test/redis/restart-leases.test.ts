// A Redis without persistence killed mid-run and started again empty, under a shared
// concurrency limit in 'local' mode: while it is away each process admits its share (the limit
// holds roughly); once it is back, in flight across processes — counted here, outside sluice —
// is within the limit again once every holder has renewed, though one process keeps callers
// queued the whole time.
import { describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/redis/index.js';
import type { SharedConcurrencyGate } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('Redis restarted empty under a shared concurrency limit', () => {
  it('in local mode: once shared again, the work leased back over the limit is not handed on to waiters — in flight returns to the limit', async () => {
    const own = await OwnRedis.start();
    const opts = { url: own.url, timeoutMs: 500, probeMs: 200 };
    const a = await RedisStore.connect(opts);
    const b = await RedisStore.connect(opts);
    // Leases renewed every 500 ms: a holds its 4 on leases Redis lost until its next renewal.
    const gate = (s: RedisStore): SharedConcurrencyGate => s.concurrency({ name: 'restart', limit: 4, maxQueue: 100, maxWaitMs: 10_000, leaseTtlMs: 1500, onStoreError: 'local', instances: 2 });
    const ga = gate(a);
    const gb = gate(b);
    let inFlight = 0;
    let measuring = false;
    let peak = 0;
    const work = async (g: SharedConcurrencyGate, ms: number): Promise<void> => {
      const p = await g.acquire().catch(() => undefined);
      if (p === undefined) return;
      inFlight++;
      if (measuring) peak = Math.max(peak, inFlight);
      await sleep(ms);
      inFlight--;
      p.release();
    };
    try {
      // b has held leases before (it knows the lease data's epoch); a takes the whole limit for long.
      await Promise.all([work(gb, 20), work(gb, 20)]);
      const longs = Array.from({ length: 4 }, () => work(ga, 4000));
      await until(() => inFlight === 4, 2000);
      await own.stop();
      let streaming = true;
      const shorts: Promise<void>[] = [];
      const stream = (async () => {
        while (streaming) {
          shorts.push(work(gb, 30));
          await sleep(25);
        }
      })();
      await sleep(500);
      await own.start();
      expect(await until(() => a.health === 'shared' && b.health === 'shared', 5000)).toBe(true);
      // a renews within 500 ms and puts its 4 leases back; b's lease for the work its local mode
      // admitted (30 ms) makes 5 in Redis. Before, b handed that slot on to its queue for as long
      // as the queue lasted (5 in flight until a's work ended); now it goes back.
      await sleep(900);
      measuring = true;
      await Promise.all(longs);
      streaming = false;
      await stream;
      await Promise.all(shorts);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(4);
    } finally {
      ga.close();
      gb.close();
      await Promise.all([a.close(), b.close()]);
      await own.dispose();
    }
  }, 20_000);
});
