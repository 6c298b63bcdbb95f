import { describe, expect, it } from 'vitest';
import { InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { Admission } from '../../src/core/index.js';
import { run } from '../../src/compose/index.js';
import { AdaptiveThrottle } from '../../src/retry/index.js';

function setup(random: () => number = () => 0.5, extra: { k?: number; windowMs?: number; buckets?: number } = {}) {
  const clock = new VirtualClock();
  const gate = new AdaptiveThrottle({ name: 'client', clock, random, ...extra });
  const call = (outcome: 'success' | 'failure' | 'ignored'): Admission => {
    const a = gate.admit();
    if (a.ok) a.release(outcome);
    return a;
  };
  return { clock, gate, call };
}

describe('AdaptiveThrottle (SRE book, client-side throttling)', () => {
  it('p = max(0, (requests − K·accepts) / (requests + 1))', () => {
    const { gate, call } = setup(() => 0.999); // never refuses, so the counts are exact
    expect(gate.probability()).toBe(0);
    for (let i = 0; i < 10; i++) call('success');
    expect(gate.probability()).toBe(0); // (10 − 20) / 11 < 0
    for (let i = 0; i < 20; i++) call('failure');
    expect(gate.stats()).toMatchObject({ requests: 30, accepts: 10 });
    expect(gate.probability()).toBeCloseTo((30 - 2 * 10) / 31, 12);
    for (let i = 0; i < 70; i++) call('failure');
    expect(gate.probability()).toBeCloseTo((100 - 20) / 101, 12);
  });

  it('refuses with the drawn probability, reason overloaded; refused calls still count as requests', () => {
    let r = 0.3;
    const { gate, call } = setup(() => r);
    call('failure'); // p was 0; now requests 1, accepts 0 → p = 1/2
    const a = gate.admit();
    expect(a).toMatchObject({ ok: false, reason: 'overloaded', gate: 'client' });
    expect(a.ok === false && a.retryAfterMs).toBe(2_000); // one bucket of 120 s / 60
    expect(gate.stats().requests).toBe(2);
    r = 0.7; // (2 − 0)/3 = 0.667 < 0.7: admitted
    expect(gate.admit().ok).toBe(true);
    expect(gate.stats().rejected.overloaded).toBe(1);
  });

  it('never draws a random number while p = 0', () => {
    let draws = 0;
    const { call } = setup(() => (draws++, 0));
    for (let i = 0; i < 100; i++) call('success');
    expect(draws).toBe(0);
  });

  it("'ignored' takes the request back out (the call never reached the backend)", () => {
    const { gate, call } = setup();
    call('ignored');
    call('ignored');
    expect(gate.stats().requests).toBe(0);
    expect(gate.probability()).toBe(0);
  });

  it('forgets outside its window', () => {
    const { clock, gate, call } = setup(() => 0.999, { windowMs: 10_000, buckets: 10 });
    for (let i = 0; i < 50; i++) call('failure');
    expect(gate.probability()).toBeGreaterThan(0.9);
    clock.advance(10_000);
    expect(gate.stats()).toMatchObject({ requests: 0, accepts: 0, probability: 0 });
  });

  it('K: a lower multiplier sheds more', () => {
    const a = setup(() => 0.999, { k: 1 });
    const b = setup(() => 0.999, { k: 2 });
    for (const s of [a, b]) {
      for (let i = 0; i < 10; i++) s.call('success');
      for (let i = 0; i < 20; i++) s.call('failure');
    }
    expect(a.gate.probability()).toBeCloseTo(20 / 31, 12);
    expect(b.gate.probability()).toBeCloseTo(10 / 31, 12);
  });

  it('works as a gate under run(): refusals are RejectedError overloaded', async () => {
    const { gate } = setup(() => 0);
    await expect(run(gate, () => Promise.reject(new Error('503')))).rejects.toThrow('503');
    const err = await run(gate, () => 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ reason: 'overloaded' });
  });

  it('validates options', () => {
    expect(() => new AdaptiveThrottle({ k: 0.5 })).toThrow('k: expected a finite number >= 1, received 0.5');
    expect(() => new AdaptiveThrottle({ windowMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new AdaptiveThrottle({ random: 4 as never })).toThrow('random: expected a function');
  });
});
