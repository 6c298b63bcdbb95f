// sluice/redis's view classes made by their public constructors: `new RedisRateStore(store,
// name, options)` is `store.rateStore(name, options)` (one bucket, the same checks), and so for
// RedisLimitStore, SharedBreaker and SharedConcurrencyGate. Anything but a RedisStore is an
// InvalidArgumentError naming `store`. The shared Redis, under a prefix of the file's own.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisLimitStore, RedisRateStore, SharedBreaker, SharedConcurrencyGate } from '../../src/redis/index.js';
import type { RedisStore, RedisStoreHandle } from '../../src/redis/index.js';
import { sharedRedis, usePrefixedStore } from './servers.js';

const svc = await sharedRedis();

describe.skipIf(!svc.up)('view constructors', () => {
  let store!: RedisStore;
  usePrefixedStore(svc.url, 'views', (s) => (store = s));

  it('make what the factories make: one bucket, the same option checks', async () => {
    const policy = ratePolicy({ algorithm: 'token-bucket', rate: 1, burst: 2, name: 'v' });
    const built = new RedisRateStore(store, 'api', { onStoreError: 'closed' });
    const made = store.rateStore('api');
    expect(built.base).toBe(made.base);
    expect(built.failure.onStoreError).toBe('closed');
    const seen = [await built.consume('t', policy, 1, 0, 0), await made.consume('t', policy, 1, 0, 0), await built.consume('t', policy, 1, 0, 0)].map((d) => d.allowed);
    expect(seen).toEqual([true, true, false]);
    expect(() => new RedisRateStore(store, 'a{b}')).toThrow(InvalidOptionError);
    expect(() => new RedisRateStore(store, 'x', { onStoreError: 'maybe' as never })).toThrow(/onStoreError/);
    const limits = new RedisLimitStore(store, { leaseTtlMs: 1000 });
    expect((await limits.takeSlots('n', 2, 1)).granted).toBe(1);
    await limits.close();
    expect(() => new RedisLimitStore(store, { leaseTtlMs: 1 })).toThrow(/leaseTtlMs/);
    const shared = new SharedBreaker(store, new CircuitBreaker({ name: 'views-breaker' }));
    expect(shared.key).toBe(`${store.config.keyPrefix}{views-breaker}:breaker`);
    shared.close();
    const gate = new SharedConcurrencyGate(store, { name: 'views-gate', limit: 1 });
    const permit = await gate.acquire();
    permit.release('success');
    gate.close();
  });

  it('refuse anything but a RedisStore, naming `store`', () => {
    const fake = { config: store.config, guard: store.guard, client: store.client } as RedisStoreHandle;
    for (const make of [() => new RedisRateStore(fake, 'x'), () => new RedisLimitStore(fake), () => new SharedBreaker(fake, new CircuitBreaker({ name: 'b' })), () => new SharedConcurrencyGate(fake, { limit: 1 })]) {
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(/^store: expected a RedisStore \(from RedisStore.connect\), received/);
    }
  });
});
