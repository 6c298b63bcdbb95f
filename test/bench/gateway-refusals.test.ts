import { describe, expect, it } from 'vitest';
import { refusalsOf, refusedCell } from '../../bench/gateway/gateway-refusals.js';

/** The 3x sluice row of bench/results/gateway-open-knee-5362912-busy-hog.md: 54,260 503s to the client, 56,479 queue_timeout at the gateway. */
const knee3x = { refused: 54_260, refusedByStatus: { 503: 54_260 }, statusRefused: 56_479, statusQueueTimeouts: 56_479 };

describe('bench:gateway refusals: the client\'s window against the gateway\'s /status span', () => {
  it('labels the gateway\'s /status figure with its own span, beside the window\'s own count, never inside its breakdown', () => {
    const cell = refusedCell(knee3x);
    // Before: "54,260 (503: 54260; queue_timeout 56479, early or after a wait)" — more queue_timeouts than 503s, as if of the window.
    expect(cell).toBe("54,260 (503: 54260); gateway /status from the window's start to its last answer (warm-up tail and abandoned requests included): 56,479 refused, queue_timeout 56,479");
    expect(cell.split(';')[0]).not.toContain('56');
  });

  it('prints the window alone for other contenders, and nothing for a row without refusals', () => {
    expect(refusedCell({ refused: 10, refusedByStatus: { 503: 10 }, statusRefused: NaN, statusQueueTimeouts: NaN })).toBe('10 (503: 10)');
    expect(refusedCell({ refused: 0, refusedByStatus: {}, statusRefused: 0, statusQueueTimeouts: 0 })).toBe('0');
  });

  it('sums every policy\'s gates\' refusals by reason from one /status', () => {
    const status = {
      policies: [
        { gates: [{ rejected: { queue_timeout: 5, queue_full: 2 } }, { rejected: { rate_limited: 1 } }, {}] },
        { gates: [{ rejected: { queue_timeout: 3 } }] },
      ],
    };
    expect(refusalsOf(status)).toEqual({ refused: 11, queueTimeouts: 8 });
    expect(refusalsOf({ policies: [] })).toEqual({ refused: 0, queueTimeouts: 0 });
  });

  it('says nothing (NaN) for an answer that is not a gateway\'s /status', () => {
    expect(refusalsOf({})).toEqual({ refused: NaN, queueTimeouts: NaN });
  });
});
