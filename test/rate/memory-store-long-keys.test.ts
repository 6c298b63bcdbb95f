// The in-process MemoryStore (and so a KeyedRateLimiter's default store) holds a caller's key
// past MAX_HELD_KEY_LENGTH under its SHA-256 (held-key.ts), as the HTTP layer and the Redis store
// name theirs. Before, it held every key as it arrived: hostile 1 MB keys kept a megabyte each,
// up to maxKeys (100,000 by default) of them.
import { describe, expect, it } from 'vitest';
import { heapAfterGc, hugeKey, MB } from '../heap.js';
import { VirtualClock } from '../../src/core/index.js';
import { KeyedRateLimiter, MAX_HELD_KEY_LENGTH, MemoryStore, ratePolicy } from '../../src/rate/index.js';

const KEYS = 48;

const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 2, name: 'api' });

describe('MemoryStore and long keys', () => {
  it('keeps no key past MAX_HELD_KEY_LENGTH: 48 keys of 1 MB leave the heap about where it was', () => {
    const store = new MemoryStore();
    const before = heapAfterGc();
    for (let i = 0; i < KEYS; i++) expect(store.consume(hugeKey(i), policy, 1, 0, 0).allowed).toBe(true);
    expect(store.size).toBe(KEYS);
    const grown = heapAfterGc() - before;
    expect(grown, `heap grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(8 * MB);
  }, 60_000);

  it("a KeyedRateLimiter's default store does the same", () => {
    const limiter = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 2 }, clock: new VirtualClock() });
    const before = heapAfterGc();
    for (let i = 0; i < KEYS; i++) expect(limiter.tryAdmit({ key: hugeKey(i) }).ok).toBe(true);
    expect(limiter.stats().keys).toBe(KEYS);
    const grown = heapAfterGc() - before;
    expect(grown, `heap grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(8 * MB);
  }, 60_000);

  it('meters, refunds and forgets a long key under one name, and tells long keys apart', () => {
    const store = new MemoryStore();
    const long = 'k'.repeat(MAX_HELD_KEY_LENGTH + 1);
    const other = `${'k'.repeat(MAX_HELD_KEY_LENGTH)}j`; // same length, last character differs
    expect(store.consume(long, policy, 2, 0, 0).allowed).toBe(true);
    expect(store.consume(long, policy, 1, 0, 0).allowed).toBe(false);
    expect(store.available(long, policy, 0)).toBe(0);
    expect(store.available(other, policy, 0)).toBe(2);
    store.refund(long, policy, 1, 0);
    expect(store.available(long, policy, 0)).toBe(1);
    expect(store.delete(long)).toBe(true);
    expect(store.available(long, policy, 0)).toBe(2);
    expect(store.size).toBe(0);
  });

  it('a key at MAX_HELD_KEY_LENGTH is held as it is; one shaped like a held hash cannot stand for a long key', () => {
    const store = new MemoryStore();
    const atLimit = 'a'.repeat(MAX_HELD_KEY_LENGTH);
    expect(store.consume(atLimit, policy, 2, 0, 0).allowed).toBe(true);
    expect(store.available(atLimit, policy, 0)).toBe(0);
    expect(store.available('a'.repeat(MAX_HELD_KEY_LENGTH - 1), policy, 0)).toBe(2);
    // A long key spends its budget; no short key names its entry (the hashed form is hashed again).
    const long = 'z'.repeat(MAX_HELD_KEY_LENGTH * 4);
    expect(store.consume(long, policy, 2, 0, 0).allowed).toBe(true);
    for (const k of ['#sha256:', '#sha256:x', 'z'.repeat(MAX_HELD_KEY_LENGTH)]) expect(store.available(k, policy, 0)).toBe(2);
  });
});
