// A custom pressure source whose retryAfterMs() answers no number (NaN, undefined, a string) is the source's bug, named as such where the shedder reads it. Before, admit()
// handed out a rejection with that value (a Retry-After of NaN), and run() — since
// exported helpers check what they are given — threw an InvalidArgumentError about
// 'rejection.retryAfterMs ... for rejectionError()', a call the caller never made.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, RejectedError, VirtualClock } from '../../src/core/index.js';
import { run } from '../../src/compose/index.js';
import { LoadShedder } from '../../src/pressure/index.js';
import type { PressureSource } from '../../src/pressure/index.js';

const source = (retry: unknown): PressureSource => ({ level: 'reject', pressure: 1, retryAfterMs: () => retry as number });

describe("LoadShedder reading its pressure source's retryAfterMs()", () => {
  for (const bad of [Number.NaN, undefined, '250']) {
    it(`names the source when it answers ${String(bad)} (admit and run alike)`, async () => {
      const s = new LoadShedder({ pressure: source(bad), random: () => 0, clock: new VirtualClock() });
      expect(() => s.admit({ priority: -2 })).toThrow(InvalidArgumentError);
      expect(() => s.admit({ priority: -2 })).toThrow(/pressure\.retryAfterMs\(\)/);
      await expect(run(s, () => 'x', { priority: -2 })).rejects.toThrow(/pressure\.retryAfterMs\(\)/);
    });
  }

  it('a good value is the refusal\'s retryAfterMs, as before', async () => {
    const s = new LoadShedder({ pressure: source(250), random: () => 0, clock: new VirtualClock() });
    const a = s.admit({ priority: -2 });
    expect(a.ok ? 'ok' : a.retryAfterMs).toBe(250);
    await expect(run(s, () => 'x', { priority: -2 })).rejects.toBeInstanceOf(RejectedError);
  });

  it('a negative one is read as 0, as every gate clamps its retryAfterMs', () => {
    const s = new LoadShedder({ pressure: source(-5), random: () => 0, clock: new VirtualClock() });
    const a = s.admit({ priority: -2 });
    expect(a.ok ? 'ok' : a.retryAfterMs).toBe(0);
  });
});
