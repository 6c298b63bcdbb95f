// M10: overload onset → first refusal or limit change, from sampled gate stats.
import { describe, expect, it } from 'vitest';
import { REJECTION_REASONS } from '../../src/core/index.js';
import type { GateStats, RejectionReason } from '../../src/core/index.js';
import { SignalLatency } from '../../src/metrics/index.js';

const none = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;
function stats(o: Partial<Omit<GateStats, 'rejected'>> & { refused?: number }): GateStats {
  return { name: 'api', kind: 'concurrency', inFlight: 0, queued: 0, limit: 10, tokens: undefined, admitted: 0, released: 0, dropped: 0, closed: false, ...o, rejected: { ...none, queue_full: o.refused ?? 0 } };
}

describe('SignalLatency', () => {
  it('measures from the first saturated sample to the first refusal', () => {
    const t = new SignalLatency();
    expect(t.sample([stats({ inFlight: 5 })], 0)).toEqual([]);
    expect(t.sample([stats({ inFlight: 10 })], 100)).toEqual([]); // onset: at the limit
    expect(t.sample([stats({ inFlight: 10, queued: 3 })], 200)).toEqual([]);
    expect(t.sample([stats({ inFlight: 10, queued: 5, refused: 2 })], 450)).toEqual([{ gate: 'api', kind: 'concurrency', seconds: 0.35 }]);
    // Still overloaded, more refusals: the same episode, not a new observation.
    expect(t.sample([stats({ inFlight: 10, queued: 5, refused: 9 })], 500)).toEqual([]);
    // Calm, then overloaded again: a new episode.
    expect(t.sample([stats({ inFlight: 2, refused: 9 })], 600)).toEqual([]);
    expect(t.open).toBe(0);
    expect(t.sample([stats({ inFlight: 10, refused: 9 })], 700)).toEqual([]);
    expect(t.sample([stats({ inFlight: 10, refused: 10 })], 900)).toEqual([{ gate: 'api', kind: 'concurrency', seconds: 0.2 }]);
  });

  it('a limit change answers too (an adaptive limit reacting before anything is refused)', () => {
    const t = new SignalLatency();
    t.sample([stats({ inFlight: 10, limit: 10 })], 0);
    expect(t.sample([stats({ inFlight: 10, limit: 8 })], 1_000)).toEqual([{ gate: 'api', kind: 'concurrency', seconds: 1 }]);
  });

  it('a burst absorbed without a reaction is no episode; a refusal with no saturation sampled is 0', () => {
    const t = new SignalLatency();
    t.sample([stats({ inFlight: 10 })], 0);
    expect(t.sample([stats({ inFlight: 3 })], 100)).toEqual([]);
    expect(t.open).toBe(0);
    expect(t.sample([stats({ inFlight: 3, refused: 1 })], 200)).toEqual([{ gate: 'api', kind: 'concurrency', seconds: 0 }]);
  });

  it('rate gates saturate when out of tokens; gates that disappear are forgotten', () => {
    const t = new SignalLatency();
    t.sample([stats({ kind: 'rate', tokens: 0.4, limit: 100 })], 0);
    expect(t.open).toBe(1);
    expect(t.sample([], 100)).toEqual([]);
    expect(t.open).toBe(0);
  });
});
