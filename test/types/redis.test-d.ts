// sluice/redis's public constructors: each view class is made from the store itself, with the
// factory's arguments — no internal type (the store's link) in a public signature. Before, their
// first parameter was the internal StoreLink, which no RedisStore is: `new RedisRateStore(store,
// ...)` did not compile, and the declarations named a type the package does not export.
import { describe, expectTypeOf, it } from 'vitest';
import type { CircuitBreaker } from '../../src/breaker/index.js';
import { RedisLimitStore, RedisRateStore, SharedBreaker, SharedConcurrencyGate } from '../../src/redis/index.js';
import type { LimitStoreOptions, RateStoreOptions, RedisStoreHandle, SharedBreakerOptions, SharedConcurrencyOptions , RedisStore} from '../../src/redis/index.js';

describe('sluice/redis view constructors', () => {
  it('take a RedisStore and the options of their factory', () => {
    expectTypeOf(RedisRateStore).constructorParameters.toEqualTypeOf<[store: RedisStoreHandle, name: string, options?: RateStoreOptions]>();
    expectTypeOf(RedisLimitStore).constructorParameters.toEqualTypeOf<[store: RedisStoreHandle, options?: LimitStoreOptions]>();
    expectTypeOf(SharedBreaker).constructorParameters.toEqualTypeOf<[store: RedisStoreHandle, breaker: CircuitBreaker, options?: SharedBreakerOptions]>();
    expectTypeOf(SharedConcurrencyGate).constructorParameters.toEqualTypeOf<[store: RedisStoreHandle, options: SharedConcurrencyOptions]>();
    expectTypeOf<RedisStore>().toMatchTypeOf<RedisStoreHandle>();
    // The factories return what the constructors make.
    expectTypeOf<RedisStore['rateStore']>().returns.toEqualTypeOf<RedisRateStore>();
    expectTypeOf<Parameters<RedisStore['limitStore']>>().toEqualTypeOf<[options?: LimitStoreOptions]>();
  });
});
