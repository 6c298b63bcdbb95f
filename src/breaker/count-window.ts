/**
 * Trip rule: failure and slow-call ratios over the last `size` calls (Resilience4j's
 * COUNT_BASED sliding window). A ring of per-call codes plus running totals: O(1) per
 * call, no clock.
 */
import { optInt, optionKeys, optKnownKeys } from '../core/index.js';
import { asRecord, intArrayAt, intAt } from './plain-data.js';
import { ratios, ratioTrips } from './ratio.js';
import type { RatioOptions } from './ratio.js';
import type { TripRule } from './trip-rule.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface CountWindowOptions extends RatioOptions {
  /** Calls in the window. Integer >= 1. @default 100 */
  readonly size?: number;
}

export const COUNT_WINDOW_DEFAULTS = deepFreeze({ size: 100 } as const);

const KEYS = optionKeys<CountWindowOptions>({ size: true, failureRatio: true, slowCallRatio: true, slowCallMs: true, minimumCalls: true });

/** Plain data. `ring[i]`: bit 0 = failed, bit 1 = slow; `filled` slots used, `next` to overwrite. */
export interface CountWindowState {
  ring: number[];
  next: number;
  filled: number;
  failures: number;
  slow: number;
}

const FAILED = 1;
const SLOW = 2;

/** Open on the ratios (see `ratio.ts`) over the last `size` calls. */
export function countWindow(options: CountWindowOptions = {}): TripRule<CountWindowState> {
  optKnownKeys('countWindow', options, KEYS);
  const size = optInt('size', options.size ?? COUNT_WINDOW_DEFAULTS.size, 1);
  const r = ratios(options, size);
  return {
    name: 'count-window',
    timing: r.slowCallMs === Infinity ? 'none' : 'duration',
    slowCallMs: r.slowCallMs,
    initial: () => ({ ring: new Array<number>(size).fill(0), next: 0, filled: 0, failures: 0, slow: 0 }),
    record(s, failed, durationMs) {
      const code = (failed ? FAILED : 0) | (durationMs >= r.slowCallMs ? SLOW : 0);
      if (s.filled === size) {
        const old = s.ring[s.next]!;
        s.failures -= old & FAILED;
        s.slow -= (old & SLOW) >> 1;
      } else {
        s.filled++;
      }
      s.ring[s.next] = code;
      s.next = s.next + 1 === size ? 0 : s.next + 1;
      s.failures += code & FAILED;
      s.slow += (code & SLOW) >> 1;
      return ratioTrips(r, s.filled, s.failures, s.slow);
    },
    tally: (s) => ({ calls: s.filled, failures: s.failures, slow: s.slow }),
    restore(data, _deltaMs, path) {
      const o = asRecord(data, path);
      const ring = intArrayAt(o, 'ring', path, size, 0, FAILED | SLOW);
      const filled = intAt(o, 'filled', path, 0, size);
      const next = intAt(o, 'next', path, 0, size - 1);
      // Totals are recomputed from the ring, never trusted.
      let failures = 0;
      let slow = 0;
      for (let i = 0; i < filled; i++) {
        const code = ring[(next - 1 - i + 2 * size) % size]!;
        failures += code & FAILED;
        slow += (code & SLOW) >> 1;
      }
      return { ring, next, filled, failures, slow };
    },
  };
}
