// A refund goes where its reservation was taken, whatever the store's health when it comes.
// A reservation is refunded when its caller gives up before its grant (rate-gate.ts): one the
// local failure mode made during an outage, refunded once Redis was back, went to Redis — a
// token given to a bucket that never lost it, one request more than the policy across
// processes; one Redis made, refunded during an outage, went to the local share — a token for
// the local fallback that it never took. Against a redis-server of this test's own (free port)
// stopped by SIGSTOP to its PID: a hang, no state lost, so Redis's bucket is still spent after.
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { StoreUnavailableError } from '../../src/redis/index.js';
import { haveRedisServer, ownStore } from './servers.js';

const can = haveRedisServer();
// One token every 5 minutes: nothing refills within a test; a reservation waits minutes.
const slow = ratePolicy({ algorithm: 'gcra', rate: 2, perMs: 600_000, burst: 2, name: 'p' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();

describe.skipIf(!can)('refunds across an outage (a Redis of our own, stopped by PID)', () => {
  const s = ownStore('refund:', { timeoutMs: 300, probeMs: 200, failures: 1 });

  async function hang<T>(during: () => Promise<T>): Promise<T> {
    process.kill(s.own.pid!, 'SIGSTOP');
    try {
      return await during();
    } finally {
      process.kill(s.own.pid!, 'SIGCONT');
    }
  }

  async function shared(): Promise<void> {
    for (let i = 0; i < 250 && s.store.health !== 'shared'; i++) await sleep(20);
    expect(s.store.health).toBe('shared');
  }

  it("a reservation the local fallback made, refunded once Redis is back, goes back to the local share, not to Redis's spent bucket", async () => {
    const rs = s.store.rateStore('local-made', { onStoreError: 'local', instances: 1 });
    expect((await rs.consume('k', slow, 2, now(), 0)).allowed).toBe(true);
    const reserved = await hang(async () => {
      await rs.consume('k', slow, 2, now(), 0); // times out: the breaker opens; the local share is spent
      expect(s.store.health).toBe('fallback');
      return rs.consume('k', slow, 1, now(), Infinity);
    });
    expect(reserved).toMatchObject({ allowed: true });
    expect(reserved.delayMs).toBeGreaterThan(0);
    await shared();
    await rs.refund('k', slow, 1, now());
    // Redis's bucket was spent before the outage and never counted the reservation.
    expect((await rs.consume('k', slow, 1, now(), 0)).allowed).toBe(false);
    expect(rs.stats().fallback).toBe(2);
  });

  it('a reservation Redis made, refunded during an outage, is not given to the local share (it never took it): the refund is dropped', async () => {
    const rs = s.store.rateStore('redis-made', { onStoreError: 'local', instances: 1 });
    expect((await rs.consume('k', slow, 2, now(), 0)).allowed).toBe(true);
    const reserved = await rs.consume('k', slow, 1, now(), Infinity);
    expect(reserved.allowed && reserved.delayMs > 0).toBe(true);
    const after = await hang(async () => {
      await rs.consume('k', slow, 2, now(), 0); // times out, then the local share decides: spent
      expect(s.store.health).toBe('fallback');
      await expect(rs.refund('k', slow, 1, now())).rejects.toBeInstanceOf(StoreUnavailableError);
      return rs.consume('k', slow, 1, now(), 0);
    });
    expect(after.allowed).toBe(false);
    await shared();
  });
});
