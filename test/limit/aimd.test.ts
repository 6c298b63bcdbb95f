import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { AIMD_DEFAULTS, AimdLimit } from '../../src/limit/index.js';

const ok = (inFlight: number, rttMs = 10) => ({ startTime: 0, rttMs, inFlight, dropped: false });
const drop = (inFlight = 20) => ({ startTime: 0, rttMs: 10, inFlight, dropped: true });

describe('AimdLimit update rule', () => {
  it('adds 1 when at least half the limit is in flight, else holds', () => {
    const a = new AimdLimit({ initialLimit: 20 });
    expect(a.onSample(ok(10))).toBe(21); // 2·10 >= 20
    expect(a.onSample(ok(10))).toBe(21); // 2·10 < 21: app-limited
    expect(a.onSample(ok(11))).toBe(22);
  });

  it('multiplies by backoffRatio and floors on a drop', () => {
    const a = new AimdLimit({ initialLimit: 20 });
    expect(a.onSample(drop())).toBe(18); // ⌊20 · 0.9⌋
    expect(a.onSample(drop())).toBe(16); // ⌊18 · 0.9⌋ = ⌊16.2⌋
    const b = new AimdLimit({ initialLimit: 9, backoffRatio: 0.5 });
    expect(b.onSample(drop())).toBe(4); // ⌊4.5⌋
  });

  it('counts an RTT above timeoutMs as a drop', () => {
    const a = new AimdLimit({ initialLimit: 10, timeoutMs: 100 });
    expect(a.onSample(ok(10, 100))).toBe(11); // not above
    expect(a.onSample(ok(10, 100.5))).toBe(9); // ⌊11 · 0.9⌋ = ⌊9.9⌋
  });

  it('stays within [minLimit, maxLimit]', () => {
    const a = new AimdLimit({ initialLimit: 3, minLimit: 2, maxLimit: 4 });
    a.onSample(ok(3));
    expect(a.onSample(ok(4))).toBe(4);
    expect(a.onSample(drop())).toBe(3);
    expect(a.onSample(drop())).toBe(2);
    expect(a.onSample(drop())).toBe(2);
  });

  it('has the documented defaults', () => {
    const a = new AimdLimit();
    expect(a.limit).toBe(AIMD_DEFAULTS.initialLimit);
    expect([a.minLimit, a.maxLimit, a.backoffRatio, a.timeoutMs]).toEqual([1, 200, 0.9, 5000]);
  });

  it('validates options once, naming the option, the range and the value', () => {
    expect(() => new AimdLimit({ backoffRatio: 1 })).toThrow(InvalidOptionError);
    expect(() => new AimdLimit({ backoffRatio: 0.4 })).toThrow(/backoffRatio: expected a number in \[0.5, .*\], received 0.4/);
    expect(() => new AimdLimit({ minLimit: 0 })).toThrow(/minLimit: expected an integer >= 1, received 0/);
    expect(() => new AimdLimit({ minLimit: 10, maxLimit: 5 })).toThrow(/maxLimit: expected an integer >= minLimit \(10\), received 5/);
    expect(() => new AimdLimit({ initialLimit: 300 })).toThrow(/initialLimit: expected an integer in \[1, 200\], received 300/);
    expect(() => new AimdLimit({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    // A default initial limit is clamped into explicit bounds rather than contradicting them.
    expect(new AimdLimit({ maxLimit: 5 }).limit).toBe(5);
    expect(new AimdLimit({ minLimit: 50 }).limit).toBe(50);
  });

  it('exports and restores its state as plain data', () => {
    const a = new AimdLimit();
    a.onSample(ok(20));
    const state = JSON.parse(JSON.stringify(a.state()));
    expect(state).toEqual({ limit: 21 });
    const b = new AimdLimit();
    b.restore(state);
    expect(b.limit).toBe(21);
    expect(() => b.restore({ limit: 0 })).toThrow(InvalidArgumentError);
    expect(() => b.restore({ limit: 2.5 })).toThrow(/state.limit/);
  });
});
