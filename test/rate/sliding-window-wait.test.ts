// A sliding window's maxWaitMs only covers a wait that ends inside the current fixed window:
// the reservation is counted in this window's count at once, which is exact only if it is
// granted in it. A caller whose turn comes in a later window is refused at once with its
// exact retryAfterMs, however long maxWaitMs is (README, "A rate gate can let callers wait").
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { SlidingWindow } from '../../src/rate/index.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SlidingWindow maxWaitMs', () => {
  it('a turn in a later window is refused at once with its retryAfterMs, whatever maxWaitMs allows', () => {
    const clock = new VirtualClock();
    clock.advanceTo(10_000); // the start of window 10 (windows are aligned to clock time 0)
    const gate = new SlidingWindow({ limit: 2, windowMs: 1000, maxWaitMs: 60_000, clock });
    expect(gate.tryAdmit().ok).toBe(true);
    expect(gate.tryAdmit().ok).toBe(true);
    // Window 10 is spent; in window 11 the estimate 2·(1 − e/1000) drops to 1 at e = 500: due at 11,500.
    const r = gate.admit();
    expect(r).not.toBeInstanceOf(Promise);
    expect(r).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 1500 });
    expect(gate.stats().queued).toBe(0);
  });

  it('a turn later in the same window waits, and is granted when due', async () => {
    const clock = new VirtualClock();
    clock.advanceTo(10_000);
    const gate = new SlidingWindow({ limit: 2, windowMs: 1000, maxWaitMs: 60_000, clock });
    gate.tryAdmit();
    gate.tryAdmit();
    clock.advanceTo(11_000); // window 11: prev 2, estimate 2, the next unit due at 11,500
    const p = gate.admit();
    expect(p).toBeInstanceOf(Promise);
    let settled: unknown;
    void (p as Promise<unknown>).then((v) => (settled = v));
    clock.advance(499);
    await flush();
    expect(settled).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(settled).toMatchObject({ ok: true });
  });
});
