// Callers that decide again as soon as they are answered, with nothing else in flight, must not
// move in lockstep with Redis (one batch out, one reply back, one batch out again): the
// decisions re-issued in the tick their answers were handed out go as two calls, and the two
// keep overlapping. Against a redis-server of the test's own (its commandstats are this test's).
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RateDecision } from '../../src/rate/index.js';
import { haveRedisServer, ownStore, scriptCalls } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('callers re-deciding in the tick they are answered', () => {
  const s = ownStore('sp:');
  // One token a minute: in the seconds this test can take, a key admits its burst and no more.
  const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 20, name: 'sp' });

  /** `callers` loops on key `key`, each awaiting `rounds` decisions in turn; every decision with its issue index. */
  async function loops(key: string, callers: number, rounds: number): Promise<{ i: number; d: RateDecision }[]> {
    const rs = s.store.rateStore('sp');
    const out: { i: number; d: RateDecision }[] = [];
    let issued = 0;
    await Promise.all(
      Array.from({ length: callers }, async () => {
        for (let r = 0; r < rounds; r++) {
          const i = issued++;
          out.push({ i, d: await rs.consume(key, policy, 1, 0, 0) });
        }
      }),
    );
    return out.sort((a, b) => a.i - b.i);
  }

  it('8 callers answered together: each next round goes as two calls of 4, and every decision is exact, in issue order', async () => {
    const { store, raw } = s;
    // Load both scripts first (a NOSCRIPT reload would be a second call).
    await loops('warm-a', 2, 1);
    await loops('warm-b', 1, 1);
    const sent0 = store.guard.stats().sent;
    const calls0 = await scriptCalls(raw);

    const ds = await loops('k', 8, 4);
    // Round 1: one batch of 8 (nothing in flight). Rounds 2-4: two calls each, not one.
    expect(store.guard.stats().sent - sent0).toBe(1 + 2 * 3);
    expect(await scriptCalls(raw)).toBe(calls0 + 7);
    // 32 decisions on one key of burst 20: the first 20 issued are admitted, exactly.
    expect(ds.map((x) => x.d.allowed)).toEqual([...Array(32).keys()].map((i) => i < 20));
    expect(ds.slice(0, 20).map((x) => x.d.facts.remaining)).toEqual([...Array(20).keys()].map((i) => 19 - i));
    expect(store.rateStore('sp').stats().fallback).toBe(0);
  });

  it('a lone caller: one call per decision (the one-operation script, never split); two callers: one call of 2 per round', async () => {
    const { store } = s;
    await loops('warm-c', 2, 1);
    let sent0 = store.guard.stats().sent;
    const lone = await loops('lone', 1, 5);
    expect(store.guard.stats().sent - sent0).toBe(5);
    expect(lone.map((x) => x.d.facts.remaining)).toEqual([19, 18, 17, 16, 15]);
    sent0 = store.guard.stats().sent;
    const two = await loops('two', 2, 3);
    expect(store.guard.stats().sent - sent0).toBe(3);
    expect(two.map((x) => x.d.facts.remaining)).toEqual([19, 18, 17, 16, 15, 14]);
  });
});
