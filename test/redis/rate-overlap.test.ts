// Batches overlap on one connection: a tick's batch is written at once, whatever is in flight
// (Redis runs them in the order they arrive), and each reply goes to its own callers, in
// issue order. Against a redis-server of the test's own, held with CLIENT PAUSE so that no
// batch can come back before the next one is sent.
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RateDecision } from '../../src/rate/index.js';
import { awaitingReply, haveRedisServer, ownStore, tick } from './servers.js';

const can = haveRedisServer();


describe.skipIf(!can)('batches in flight together on one connection', () => {
  const s = ownStore('ov:');

  it('while Redis holds the first batch, the next ticks’ batches are written too; each caller gets its own answer, in issue order, and one key admits exactly its burst', async () => {
    const { store, raw } = s;
    // One token a minute: in the seconds this test can take, a key admits its burst and no more.
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 5, name: 'ov' });
    const rs = store.rateStore('ov');
    // Load both scripts first (a NOSCRIPT reload would be a second call).
    await Promise.all([rs.consume('warm-a', policy, 1, 0, 0), rs.consume('warm-b', policy, 1, 0, 0)]);
    await rs.consume('warm-c', policy, 1, 0, 0);

    expect(await raw.call('CLIENT', 'PAUSE', '1500', 'ALL')).toBe('OK');
    const sent0 = store.guard.stats().sent;
    const answeredInOrder: number[] = [];
    const asks: Promise<RateDecision>[] = [];
    // Three ticks of four decisions on one key, a fourth tick on another key alone.
    for (let t = 0; t < 3; t++) {
      for (let j = 0; j < 4; j++) {
        const i = asks.length;
        asks.push(
          rs.consume('k', policy, 1, 0, 0).then((d) => {
            answeredInOrder.push(i);
            return d;
          }),
        );
      }
      await tick();
    }
    const lone = rs.consume('other', policy, 2, 0, 0);
    await tick();
    // Four calls written, none answered: no batch waited for the one before it to come back.
    expect(answeredInOrder).toEqual([]);
    expect(store.guard.stats().sent - sent0).toBe(4);
    expect(awaitingReply(store)).toBe(4);

    const ds = await Promise.all(asks);
    const other = await lone;
    expect(answeredInOrder).toEqual([...Array(12).keys()]);
    // Decided in issue order across the batches: the first five of twelve admitted, exactly.
    expect(ds.map((d) => d.allowed)).toEqual([...Array(12).keys()].map((i) => i < 5));
    expect(ds.slice(0, 5).map((d) => d.facts.remaining)).toEqual([4, 3, 2, 1, 0]);
    for (const d of ds.slice(5)) expect(d.retryAfterMs).toBeGreaterThan(50_000);
    expect([other.allowed, other.facts.remaining]).toEqual([true, 3]);
    expect(rs.stats().fallback).toBe(0);
  });
});
