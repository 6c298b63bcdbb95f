// A caller's very long key (a 20 MB tenant header, a key function's runaway result) is one
// caller's input: it must not degrade every tenant. Before, the store wrote it into Redis as it
// was — a script call carrying 20 MB, which a Redis that bounds its arguments
// (`proto-max-bulk-len`, here 1 MB as a managed Redis may set it) refuses by closing the
// connection, and which an unbounded one takes longer than the store's timeout to run on a busy
// host: failures in a row opened the store's breaker, and every tenant's decisions went to
// `onStoreError`. Now a name past MAX_STORE_KEY_LENGTH is named by its SHA-256 (keys.ts).
// A redis-server of the test's own (killed by PID).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { MAX_STORE_KEY_LENGTH, RedisStore } from '../../src/redis/index.js';
import { boundedName, keyNamer } from '../../src/redis/keys.js';
import { haveRedisServer, OwnRedis } from './servers.js';

const can = haveRedisServer();
const HUGE = 20 * 1024 * 1024;

describe('a name past MAX_STORE_KEY_LENGTH', () => {
  it('is written as it is up to the bound, by its hash past it or when it has the hashed form', () => {
    const atMax = 'k'.repeat(MAX_STORE_KEY_LENGTH);
    expect(boundedName(atMax)).toBe(atMax);
    const over = boundedName(`${atMax}x`);
    expect(over).toMatch(/^#sha256:[A-Za-z0-9_-]{43}$/);
    // A short name written in the hashed form is hashed too: it never names another key's state.
    expect(boundedName(over)).not.toBe(over);
    expect(boundedName(over)).toMatch(/^#sha256:[A-Za-z0-9_-]{43}$/);
    // 'hash' names keep an address as it is, whatever its length: bounded all the same.
    expect(keyNamer('hash')(`ip:${'1'.repeat(HUGE)}`).length).toBeLessThanOrEqual(64);
    expect(keyNamer('hash')('ip:10.0.0.7')).toBe('ip:10.0.0.7');
  });
});

describe.skipIf(!can)('a 20 MB key sent to the store', () => {
  let own: OwnRedis | undefined;
  let store: RedisStore | undefined;
  let raw: Redis | undefined;
  beforeAll(async () => {
    own = await OwnRedis.start(['--proto-max-bulk-len', '1mb']);
    store = await RedisStore.connect({ url: own.url, keyPrefix: 'long:', timeoutMs: 2000, failures: 3, probeMs: 60_000 });
    raw = new Redis(own.url);
  });
  afterAll(async () => {
    await store?.close();
    raw?.disconnect();
    await own?.dispose();
  });

  it('is metered under its own shared limit; the breaker stays closed and other tenants keep theirs', async () => {
    const s = store!;
    const rs = s.rateStore('api', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, burst: 2, name: 'api' });
    const huge = `key:${'a'.repeat(HUGE)}`;
    const decide = async (key: string): Promise<string> => {
      const d = await rs.consume(key, policy, 1, 0, 0);
      return d.unavailable === true ? 'unavailable' : d.allowed ? 'allowed' : 'refused';
    };
    const hugeOnes: string[] = [];
    for (let i = 0; i < 4; i++) hugeOnes.push(await decide(huge));
    // Before: ['unavailable', 'unavailable', 'unavailable', 'unavailable'] — the connection closed
    // by Redis at each call, the breaker open after the third.
    expect(hugeOnes).toEqual(['allowed', 'allowed', 'refused', 'refused']);
    expect(s.health).toBe('shared');
    expect(s.guard.stats()).toMatchObject({ failed: 0, timedOut: 0, shortCircuited: 0 });
    const others = [await decide('key:small'), await decide('key:small'), await decide('key:small')];
    expect(others).toEqual(['allowed', 'allowed', 'refused']);
    // Leased tokens and slots name keys alike.
    const ls = s.limitStore({ onStoreError: 'closed' });
    const take = await ls.takeTokens(huge, policy, 1, 1);
    expect(take.taken).toBe(1);
    const slots = await ls.takeSlots(`user:${'b'.repeat(HUGE)}`, 2, 1);
    expect(slots.granted).toBe(1);
    await ls.close();
    // Nothing long in Redis.
    const keys = await raw!.keys('long:*');
    expect(keys.length).toBeGreaterThan(0);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(MAX_STORE_KEY_LENGTH + 64);
    expect(s.health).toBe('shared');
  }, 60_000);
});
