// The closed-loop row's per-second split of what the upstream served (bench/gateway/served-seconds.ts):
// the storm's onset and the steady state apart.
import { describe, expect, it } from 'vitest';
import { servedSeconds } from '../../bench/gateway/served-seconds.js';

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
