// A shared breaker whose key holds another type (WRONGTYPE: another program writes it, or the
// keyPrefix collides with other data): sharing cannot work, and the process must hear it — as
// a shared concurrency gate warns (SLUICE_STORE_ERROR, once per error). Before, every sync and
// every publish swallowed the error: the breaker went on alone, silently, for as long as the key
// stayed.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { sharedRedis, unique } from './servers.js';

const svc = await sharedRedis();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.up)('a shared breaker on a key of another type', () => {
  let store: RedisStore;
  let raw: Redis;
  beforeAll(async () => {
    store = await RedisStore.connect({ url: svc.url, keyPrefix: `${unique('brkwt')}:`, timeoutMs: 2000 });
    raw = new Redis(svc.url);
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });

  it('warns once (SLUICE_STORE_ERROR naming the key), not at every sync; the key is left as it is; the breaker still acts alone', async () => {
    const breaker = new CircuitBreaker({ name: unique('brk'), openMs: 5000 });
    const shared = store.shareBreaker(breaker, { syncMs: 20 });
    await raw.set(shared.key, 'planted');
    const warnings: string[] = [];
    const on = (w: Error & { code?: string }): void => void (w.code === 'SLUICE_STORE_ERROR' && warnings.push(w.message));
    process.on('warning', on);
    try {
      await sleep(300); // ~15 syncs
      breaker.trip(); // a publish
      await sleep(100);
      expect(breaker.state).toBe('open');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/WRONGTYPE/);
      expect(warnings[0]).toContain(shared.key);
      expect(await raw.get(shared.key)).toBe('planted');
      // Once the key is gone, sharing works again, and a later error would be told again.
      await raw.del(shared.key);
      breaker.reset();
      breaker.trip();
      await sleep(100);
      expect(await raw.hget(shared.key, 's')).toBe('open');
    } finally {
      process.off('warning', on);
      shared.close();
      await raw.del(shared.key);
    }
  });
});
