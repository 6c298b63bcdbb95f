import { describe, expect, it, vi } from 'vitest';
import { AbortedError, flushMicrotasks, InvalidArgumentError, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { KeyedRateLimiter, MemoryStore, ratePolicy } from '../../src/rate/index.js';
import { AsyncStore, later, permit, rejection, track } from './helpers.js';

const policy = { algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 3 } as const;

describe('KeyedRateLimiter', () => {
  it('meters each key separately', () => {
    const clock = new VirtualClock();
    const gate = new KeyedRateLimiter({ name: 'tenants', policy, clock });
    for (let i = 0; i < 3; i++) permit(gate.admit({ key: 'a' }));
    const r = rejection(gate.admit({ key: 'a' }));
    expect(r).toMatchObject({ reason: 'rate_limited', retryAfterMs: 100, facts: { policy: 'tenants', limit: 3, remaining: 0 } });
    expect(permit(gate.admit({ key: 'b' })).facts).toMatchObject({ remaining: 2 });
    expect(gate.stats()).toMatchObject({ kind: 'keyed-rate', keys: 2, limit: 3, tokens: undefined, admitted: 4 });
  });

  it('a missing key is a caller bug: InvalidArgumentError naming key', () => {
    const gate = new KeyedRateLimiter({ policy, clock: new VirtualClock() });
    expect(() => gate.admit()).toThrow(InvalidArgumentError);
    expect(() => gate.admit({ cost: 1 })).toThrow(expect.objectContaining({ argument: 'key' }));
    expect(() => gate.admit({ key: 42 as never })).toThrow(InvalidArgumentError);
    expect(() => gate.admit({ key: 'a', cost: 0 })).toThrow(expect.objectContaining({ argument: 'cost' }));
  });

  it('applies per-key overrides from a map, a record or a function', () => {
    const vip = { algorithm: 'gcra', rate: 100, burst: 10, name: 'vip' } as const;
    const variants = [new Map([['v', vip]]), { v: vip }, (k: string) => (k === 'v' ? vip : undefined)];
    for (const overrides of variants) {
      const gate = new KeyedRateLimiter({ policy, overrides, clock: new VirtualClock() });
      let n = 0;
      while (n < 100 && (gate.admit({ key: 'v' }) as { ok: boolean }).ok) n++;
      expect(n).toBe(10);
      expect(gate.policyFor('v')).toMatchObject({ name: 'vip', burst: 10 });
      expect(gate.policyFor('other')).toBe(gate.policy);
      expect(rejection(gate.admit({ key: 'v' })).facts).toMatchObject({ policy: 'vip', limit: 10 });
      for (let i = 0; i < 3; i++) permit(gate.admit({ key: 'other' }));
      rejection(gate.admit({ key: 'other' }));
    }
  });

  it('validates each distinct override object from a function once', () => {
    const vip = { algorithm: 'gcra', rate: 100, burst: 10 } as const;
    const fn = vi.fn((k: string) => (k.startsWith('v') ? vip : undefined));
    const gate = new KeyedRateLimiter({ policy, overrides: fn, clock: new VirtualClock() });
    const a = gate.policyFor('v1');
    expect(gate.policyFor('v2')).toBe(a);
    const bad = new KeyedRateLimiter({ policy, overrides: () => ({ algorithm: 'gcra', rate: -1 }), clock: new VirtualClock() });
    expect(() => bad.admit({ key: 'x' })).toThrow(expect.objectContaining({ option: 'overrides("x").rate' }));
  });

  it('validates options at construction', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'policy'],
      [{ policy: { algorithm: 'nope' } }, 'policy.algorithm'],
      [{ policy, maxKeys: 1 }, 'maxKeys'],
      [{ policy, store: new MemoryStore(), maxKeys: 10 }, 'maxKeys'],
      [{ policy, store: new MemoryStore(), minTurnoverMs: 10 }, 'minTurnoverMs'],
      [{ policy, store: {} }, 'store'],
      [{ policy, overrides: { gold: { algorithm: 'gcra', rate: 0 } } }, 'overrides["gold"].rate'],
      [{ policy, overrides: 5 }, 'overrides'],
      [{ policy, maxWaitMs: NaN }, 'maxWaitMs'],
    ];
    for (const [options, option] of cases) {
      expect(() => new KeyedRateLimiter(options as never)).toThrow(InvalidOptionError);
      expect(() => new KeyedRateLimiter(options as never)).toThrow(expect.objectContaining({ option }));
    }
  });

  // The churn tests offer 20 to 100 times maxKeys distinct keys: the bound and the refusals
  // are the same at any multiple, and at a million keys a test took 17 s of its 20 s beside
  // CPU hogs.
  it('keeps memory bounded under 100 times maxKeys distinct keys: newcomers start from the least-used key, then are refused keys_full', () => {
    const clock = new VirtualClock();
    const gate = new KeyedRateLimiter({ policy, maxKeys: 1000, clock });
    let full = 0;
    for (let i = 0; i < 100_000; i++) {
      const a = gate.admit({ key: `user:${i}` }) as { ok: boolean; reason?: string; retryAfterMs?: number };
      if (!a.ok && a.reason === 'keys_full' && a.retryAfterMs! > 0) full++;
      if (i % 1000 === 0) expect(gate.stats().keys).toBeLessThanOrEqual(1000);
    }
    expect(gate.stats().keys).toBe(1000);
    // No time passed: each newcomer evicts the least-used key and starts from its usage, one unit
    // more per 1000 newcomers, so about maxKeys × burst (3000) units go to newcomers (a few more:
    // the first newcomer after the table filled found no floor yet); then the least-used key is
    // spent too and the rest are refused, unmetered (keys_full: not proven over its limit).
    expect(100_000 - full).toBeGreaterThanOrEqual(3000);
    expect(100_000 - full).toBeLessThanOrEqual(3010);
    expect(gate.stats().rejected.keys_full).toBe(full);
  });

  it('drops idle keys by time (virtual clock) without changing any decision', () => {
    const clock = new VirtualClock();
    const gate = new KeyedRateLimiter({ policy, minTurnoverMs: 0, clock });
    for (let i = 0; i < 100; i++) permit(gate.admit({ key: `k${i}` }));
    expect(gate.stats().keys).toBe(100);
    // Full refill of one unit takes 100 ms; keep one key busy: each call sweeps a few idle keys.
    for (let t = 0; t < 60; t++) {
      clock.advance(100);
      permit(gate.admit({ key: 'busy' }));
    }
    expect(gate.stats().keys).toBe(1);
    expect(permit(gate.admit({ key: 'k0' })).facts).toMatchObject({ remaining: 2 });
  });

  it('a spent daily quota survives key churn: 20k requests under other keys (twice maxKeys) never reset it, nor refuse them', () => {
    const clock = new VirtualClock();
    const daily = new KeyedRateLimiter({ policy: { algorithm: 'sliding-window', limit: 5, windowMs: 86_400_000 }, maxKeys: 10_000, clock });
    for (let i = 0; i < 5; i++) permit(daily.admit({ key: 'tenant' }));
    expect(rejection(daily.admit({ key: 'tenant' })).reason).toBe('rate_limited');
    const seen = { ok: 0, keys_full: 0 };
    for (let i = 0; i < 20_000; i++) {
      clock.advance(1); // 20 s of churn: every other key's window is live all along
      const a = daily.admit({ key: `churn:${i}` }) as { ok: boolean; reason?: string };
      if (a.ok) seen.ok++;
      else seen[a.reason as 'keys_full']++;
      if (i % 5000 === 0) expect(rejection(daily.admit({ key: 'tenant' })).reason).toBe('rate_limited');
    }
    expect(rejection(daily.admit({ key: 'tenant' }))).toMatchObject({ reason: 'rate_limited', facts: { remaining: 0 } });
    // The table (10 000 keys, the tenant's among them) stays full of live windows: each newcomer
    // evicts a least-used key (one unit) and starts from its count, well under the limit of 5.
    expect(seen).toEqual({ ok: 20_000, keys_full: 0 });
    expect(daily.stats().keys).toBe(10_000);
    // The quota comes back when its window has passed, not before.
    clock.advance(86_400_000 * 2);
    permit(daily.admit({ key: 'tenant' }));
  });

  it('a bucket quota survives churn of keys that go idle: idle keys make room, the spent one stays spent', () => {
    const clock = new VirtualClock();
    const perDay = { algorithm: 'gcra', rate: 5, perMs: 86_400_000, burst: 5 } as const;
    const fast = { algorithm: 'gcra', rate: 100, perMs: 1000, burst: 1, name: 'fast' } as const;
    const gate = new KeyedRateLimiter({ policy: perDay, overrides: (k: string) => (k.startsWith('churn:') ? fast : undefined), maxKeys: 1000, clock });
    for (let i = 0; i < 5; i++) permit(gate.admit({ key: 'tenant' }));
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      clock.advance(1); // a churn key is idle 10 ms after its request
      if ((gate.admit({ key: `churn:${i}` }) as { ok: boolean }).ok) ok++;
    }
    expect(ok).toBeGreaterThan(19_000); // idle keys were forgotten to make room
    expect(gate.stats().keys).toBeLessThanOrEqual(1000);
    expect(rejection(gate.admit({ key: 'tenant' })).reason).toBe('rate_limited');
  });

  it('reset forgets a key', () => {
    const gate = new KeyedRateLimiter({ policy, clock: new VirtualClock() });
    permit(gate.admit({ key: 'a', cost: 3 }));
    expect(gate.reset('a')).toBe(true);
    permit(gate.admit({ key: 'a', cost: 3 }));
  });

  it('waits per key and refunds on abort', async () => {
    const clock = new VirtualClock();
    const gate = new KeyedRateLimiter({ policy, maxWaitMs: 1000, clock });
    permit(gate.admit({ key: 'a', cost: 3 }));
    const ac = new AbortController();
    const p = later(gate.admit({ key: 'a', signal: ac.signal, cost: 2 })); // due 200
    // Another key's waiter does not sit on top of 'a''s reservation: chains are per key.
    permit(gate.admit({ key: 'b', cost: 3 }));
    const other = track(later(gate.admit({ key: 'b' })));
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    // Refunded: the next caller of 'a' is due at 100 ms, not 300 ms.
    const q = track(later(gate.admit({ key: 'a' })));
    clock.advance(100);
    await flushMicrotasks();
    expect([q.value()?.ok, other.value()?.ok]).toEqual([true, true]);
    expect(clock.pendingTimers).toBe(0);
  });

  describe('with an asynchronous store', () => {
    it('answers with a promise and grants or refuses from the store decision', async () => {
      const store = new AsyncStore();
      const gate = new KeyedRateLimiter({ policy, store, clock: new VirtualClock() });
      const a = later(gate.admit({ key: 'a', cost: 3 }));
      const b = later(gate.admit({ key: 'a' }));
      store.answer();
      await expect(a).resolves.toMatchObject({ ok: true });
      await expect(b).resolves.toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 100 });
      expect(gate.stats().keys).toBe(1);
    });

    it('waits for the remaining delay after the round trip', async () => {
      const store = new AsyncStore();
      const clock = new VirtualClock();
      const gate = new KeyedRateLimiter({ policy, store, maxWaitMs: 500, clock });
      const first = later(gate.admit({ key: 'a', cost: 3 }));
      const w = track(later(gate.admit({ key: 'a' }))); // due at 100
      clock.advance(30); // the round trip took 30 ms
      store.answer();
      await first;
      await flushMicrotasks();
      expect(w.settled()).toBe(false);
      clock.advance(70);
      await flushMicrotasks();
      expect(w.value()?.ok).toBe(true);
    });

    it('an abort during the round trip rejects at once and refunds when the store answers', async () => {
      const store = new AsyncStore();
      const gate = new KeyedRateLimiter({ policy, store, clock: new VirtualClock() });
      const ac = new AbortController();
      const p = later(gate.admit({ key: 'a', signal: ac.signal }));
      ac.abort();
      await expect(p).rejects.toBeInstanceOf(AbortedError);
      store.answer();
      await flushMicrotasks();
      expect(store.refunds).toEqual([['a', 1]]);
      expect(store.inner.available('a', ratePolicy(policy), 0)).toBe(3);
    });

    it('close during the round trip answers closed and refunds', async () => {
      const store = new AsyncStore();
      const gate = new KeyedRateLimiter({ policy, store, clock: new VirtualClock() });
      const p = later(gate.admit({ key: 'a' }));
      gate.close();
      store.answer();
      await expect(p).resolves.toMatchObject({ ok: false, reason: 'closed' });
      expect(store.refunds).toEqual([['a', 1]]);
    });

    it('a store failure rejects the caller with the store error', async () => {
      const store = new AsyncStore();
      store.consume = () => Promise.reject(new Error('redis down'));
      const gate = new KeyedRateLimiter({ policy, store, clock: new VirtualClock() });
      await expect(gate.acquire({ key: 'a' })).rejects.toThrow('redis down');
    });
  });
});
