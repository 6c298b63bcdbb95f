// The closed-loop row's per-second split of what the upstream served (bench/gateway/served-seconds.ts):
// the storm's onset and the steady state apart.
import { describe, expect, it } from 'vitest';
import { meanInServiceBetween, servedSeconds } from '../../bench/gateway/served-seconds.js';

describe('servedSeconds', () => {
  it('counts the departures in each whole second from the start, and the rate after the first `onsetS` seconds', () => {
    const start = 1_000;
    // second 0: 2 departures; second 1: 3; second 2: 4; second 3: 4; one before the start and one after the end
    const departures = [999, 1_000, 1_500, 2_000, 2_100, 2_999.9, 3_000, 3_200, 3_400, 3_600, 4_000, 4_250, 4_500, 4_750, 5_000];
    const s = servedSeconds(departures, start, 4, 2);
    expect(s.perSecond).toEqual([2, 3, 4, 4]);
    expect(s.afterOnsetPerS).toBe(4);
  });

  it('a row shorter than its onset, or with no departures, has no rate after it; a partial last second is left out', () => {
    expect(servedSeconds([1, 2], 0, 1.5, 2).afterOnsetPerS).toBeNaN();
    expect(servedSeconds([], 0, 3, 2)).toEqual({ perSecond: [0, 0, 0], afterOnsetPerS: 0 });
    expect(servedSeconds([100, 2_100, 2_600], 0, 2.7, 1).perSecond).toEqual([1, 0]);
  });
});

describe('meanInServiceBetween', () => {
  it('is the time-weighted in-service count over the span only, from the arrivals and departures since an empty upstream', () => {
    // In flight: 1 from 0, 2 from 10, 1 from 30, 0 from 40; a second request arrives after the span.
    const arrivals = [0, 10, 100];
    const departures = [30, 40, 120];
    expect(meanInServiceBetween(arrivals, departures, 0, 40, 50)).toBeCloseTo((10 * 1 + 20 * 2 + 10 * 1) / 40);
    // The span [20, 50): 2 for 10 ms, 1 for 10, 0 for 10 — what came before it sets the level it starts at.
    expect(meanInServiceBetween(arrivals, departures, 20, 50, 50)).toBeCloseTo(1);
    expect(meanInServiceBetween(arrivals, departures, 50, 50, 50)).toBeNaN();
  });

  it('counts no more in service than the upstream\'s slots (the rest wait in its queue)', () => {
    // 3 in flight from 0 to 10 with 2 slots.
    expect(meanInServiceBetween([0, 0, 0], [10, 10, 10], 0, 20, 2)).toBeCloseTo(1);
  });

  it('a departure and an arrival at one instant: the slot is handed over, never counted twice', () => {
    expect(meanInServiceBetween([0, 10], [10, 20], 0, 20, 1)).toBeCloseTo(1);
  });
});
