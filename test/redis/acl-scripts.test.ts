// A Redis user whose ACL lets it run scripts by EVALSHA and load them with SCRIPT LOAD, but not
// run EVAL (`+@all -@scripting +evalsha +script|load`): every limit works in shared mode, its
// scripts loaded by SCRIPT LOAD, and again after SCRIPT FLUSH. Before, the scripts went
// EVALSHA → NOSCRIPT → EVAL (ioredis's defineCommand even sends EVAL first on every
// connection): NOPERM each time, and the store stayed in its failure mode. A user who may run
// neither EVAL nor SCRIPT LOAD gets an error naming both. The test's own redis-server, with
// users set by ACL SETUSER, stopped by PID.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const policy = ratePolicy({ algorithm: 'gcra', rate: 100, perMs: 1000, burst: 5, name: 'p' });

describe.skipIf(!can)('a Redis user allowed EVALSHA and SCRIPT LOAD, not EVAL', () => {
  let own: OwnRedis;
  let admin: Redis;
  const stores: RedisStore[] = [];
  const connect = async (user: string): Promise<RedisStore> => {
    const s = await RedisStore.connect({ url: `redis://${user}:pw@127.0.0.1:${own.port}`, timeoutMs: 1000, probeMs: 100 });
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    own = await OwnRedis.start();
    admin = new Redis(own.url);
    await admin.call('ACL', 'SETUSER', 'noeval', 'on', '>pw', '~*', '&*', '+@all', '-@scripting', '+evalsha', '+script|load');
    await admin.call('ACL', 'SETUSER', 'noload', 'on', '>pw', '~*', '&*', '+@all', '-@scripting', '+evalsha');
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    admin.disconnect();
    await own.dispose();
  });

  it('every kind of limit decides in Redis — rate, shared concurrency, leased slots, a shared breaker — and again after SCRIPT FLUSH', async () => {
    const s = await connect('noeval');
    const rate = s.rateStore('acl', { onStoreError: 'closed' });
    const gate = s.concurrency({ name: 'acl', limit: 2, onStoreError: 'closed' });
    const slots = s.limitStore({ onStoreError: 'closed' });
    const breaker = new CircuitBreaker({ name: 'acl', openMs: 60_000 });
    const shared = s.shareBreaker(breaker, { syncMs: 60_000 });
    const other = s.shareBreaker(new CircuitBreaker({ name: 'acl', openMs: 60_000 }), { syncMs: 60_000 });
    try {
      for (const round of ['loaded by SCRIPT LOAD', 'after SCRIPT FLUSH']) {
        const r = await rate.consume(`k-${round}`, policy, 1, performance.now(), 0);
        expect(r.unavailable, round).not.toBe(true);
        expect(r.allowed, round).toBe(true);
        const p = await gate.acquire();
        expect(gate.stats().mode, round).toBe('shared');
        expect(gate.stats().held, round).toBe(1);
        p.release();
        const g = await slots.takeSlots(`slots-${round}`, 3, 2);
        expect(g.granted, round).toBe(2);
        await slots.returnSlots(`slots-${round}`, 2);
        // One process's breaker opens: the other reads it open from Redis.
        if (round === 'loaded by SCRIPT LOAD') breaker.trip();
        await shared.sync();
        await other.sync();
        expect(other.breaker.state, round).toBe('open');
        expect(s.health, round).toBe('shared');
        await admin.script('FLUSH');
      }
      expect(s.lastError).toBeUndefined();
    } finally {
      gate.close();
      shared.close();
      other.close();
      await slots.close();
    }
  });

  it('a user who may run neither EVAL nor SCRIPT LOAD: the store stays in its failure mode, its error naming both commands and the ACL to allow', async () => {
    const s = await connect('noload');
    const rate = s.rateStore('acl-noload', { onStoreError: 'closed' });
    // Each decision fails; after the guard's `failures` in a row the store is in its failure mode.
    expect(
      await until(async () => {
        const r = await rate.consume('k', policy, 1, performance.now(), 0);
        expect(r.unavailable).toBe(true);
        return s.health === 'fallback';
      }, 5000),
    ).toBe(true);
    expect(s.lastError).toMatch(/NOPERM/);
    expect(s.lastError).toMatch(/neither EVAL nor SCRIPT LOAD/);
    expect(s.lastError).toMatch(/\+script\|load/);
  });
});
