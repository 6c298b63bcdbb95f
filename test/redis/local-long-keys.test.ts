// The 'local' failure mode meters callers' keys in this process's memory while Redis is away. It
// must name them as the shared path does (keys.ts boundedName): a key past MAX_STORE_KEY_LENGTH
// by its SHA-256. Before, it held each caller's key as it was — a run of hostile 1 MB keys during
// an outage kept a megabyte each in the local share (up to its 100,000 keys), and in the record
// of reservations a refund may give back. No Redis needed: the store connects to a port nothing
// listens on, and starts in its failure mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heapAfterGc, hugeKey, MB } from '../heap.js';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { freePort } from './servers.js';

const KEYS = 48;

describe("the 'local' failure mode and long keys", () => {
  let store: RedisStore | undefined;
  beforeAll(async () => {
    store = await RedisStore.connect({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'locallong:', timeoutMs: 200, probeMs: 60_000 });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('keeps no caller key past MAX_STORE_KEY_LENGTH: 48 keys of 1 MB leave the heap about where it was', async () => {
    const s = store!;
    expect(s.health).toBe('fallback');
    const rs = s.rateStore('api', { onStoreError: 'local', instances: 2 });
    const ls = s.limitStore({ onStoreError: 'local', instances: 2 });
    // Burst 1 of 2 instances: the first decision is allowed at once, the second with a delay (a reservation kept for refunds).
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 2, name: 'api' });
    const before = heapAfterGc();
    for (let i = 0; i < KEYS; i++) {
      let k: string | undefined = hugeKey(i);
      const first = await rs.consume(k, policy, 1, 0, 0);
      const second = await rs.consume(k, policy, 1, 0, 120_000);
      expect([first.allowed, second.allowed, second.delayMs > 0]).toEqual([true, true, true]);
      expect((await ls.takeTokens(k, policy, 1, 1)).taken).toBe(1);
      k = undefined;
    }
    expect(rs.stats()).toEqual({ shared: 0, fallback: 2 * KEYS });
    expect(rs.size).toBe(KEYS);
    const grown = heapAfterGc() - before;
    // Before: the local share and the reservations held every key as it was (48 MB and more).
    expect(grown, `heap grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(8 * MB);
    // Still this process's share, per key: the third ask of a key waits past the second's grant.
    const k0 = hugeKey(0);
    const third = await rs.consume(k0, policy, 1, 0, 0);
    expect(third.allowed).toBe(false);
    // A refund of a local reservation goes back to the local share under the same name.
    await rs.refund(k0, policy, 1, 0);
    expect((await rs.consume(k0, policy, 1, 0, 120_000)).allowed).toBe(true);
    await ls.close();
  }, 60_000);
});
