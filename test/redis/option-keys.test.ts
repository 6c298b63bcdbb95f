// The Redis store and its views refuse an option key they do not know, as every other public
// constructor does (core/option-keys.ts): a typo such as { prefx: 'app:' } would otherwise leave
// the default key prefix in place — another service's keys, shared in silence.
import { afterAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/errors.js';
import { RedisStore } from '../../src/redis/index.js';

const loose = <T>(v: unknown): T => v as T;

describe('RedisStore option keys', () => {
  it('refuses a misspelt option before it connects, naming the nearest key', () => {
    expect(() => new RedisStore(loose({ prefx: 'app:' }))).toThrow(InvalidOptionError);
    expect(() => new RedisStore(loose({ keyPrefx: 'app:' }))).toThrow('keyPrefx: expected one of the RedisStore options (did you mean "keyPrefix"?), received "app:"');
  });
  it('lists the known keys when none is near', () => {
    expect(() => new RedisStore(loose({ host: 'db' }))).toThrow(/^host: expected one of the RedisStore options: onStoreError, instances, url, cluster, client, keyPrefix, .*, received "db"$/);
  });
  it('refuses null for its options object', () => {
    expect(() => new RedisStore(loose(null))).toThrow(InvalidArgumentError);
  });

  describe('its views', () => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:6379' });
    afterAll(() => store.close());
    it('rateStore, leasedRateStore, limitStore name themselves and the key', () => {
      expect(() => store.rateStore('r', loose({ keyName: 'hash' }))).toThrow('keyName: expected one of the RedisStore.rateStore options (did you mean "keyNames"?), received "hash"');
      expect(() => store.leasedRateStore('r', loose({ holdMS: 10 }))).toThrow('holdMS: expected one of the RedisStore.leasedRateStore options (did you mean "holdMs"?), received 10');
      expect(() => store.limitStore(loose({ leaseTtl: 100 }))).toThrow('leaseTtl: expected one of the RedisStore.limitStore options (did you mean "leaseTtlMs"?), received 100');
      expect(() => store.rateStore('r', loose(5))).toThrow(InvalidArgumentError);
    });
    it('concurrency and shareBreaker name themselves and the key; shareBreaker checks its breaker', () => {
      expect(() => store.concurrency(loose({ name: 'c', limit: 2, maxQeue: 3 }))).toThrow('maxQeue: expected one of the RedisStore.concurrency options (did you mean "maxQueue"?), received 3');
      const breaker = new CircuitBreaker({ name: 'b' });
      expect(() => store.shareBreaker(breaker, loose({ syncMS: 100 }))).toThrow('syncMS: expected one of the RedisStore.shareBreaker options (did you mean "syncMs"?), received 100');
      expect(() => store.shareBreaker(loose(null))).toThrow('breaker: expected a CircuitBreaker, received null');
      breaker.close?.();
    });
    it('still takes every documented option', () => {
      store.rateStore('ok', { keyNames: 'hash', onStoreError: 'open', instances: 2 });
      store.leasedRateStore('ok', { batch: 2, holdMs: 10, maxKeys: 5, refillAt: false, keyNames: 'raw', onStoreError: 'closed', instances: 1 });
      store.limitStore({ leaseTtlMs: 100, keyNames: 'raw' });
      const gate = store.concurrency({ name: 'ok', limit: 2, maxQueue: 1, maxWaitMs: 10, leaseTtlMs: 1000, pollMs: 5, spare: 0, onStoreError: 'local', instances: 1 });
      gate.close();
      const breaker = new CircuitBreaker({ name: 'ok' });
      store.shareBreaker(breaker, { syncMs: 100, name: 'ok' }).close();
    });
  });
});
