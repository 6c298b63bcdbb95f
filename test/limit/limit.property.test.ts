import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AimdLimit, Gradient2Limit, VegasLimit, WindowedLimit } from '../../src/limit/index.js';
import type { LimitAlgorithm, LimitSample } from '../../src/limit/index.js';

const sampleArb: fc.Arbitrary<LimitSample> = fc.record({
  startTime: fc.double({ min: 0, max: 1e6, noNaN: true }),
  rttMs: fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 10_000, noNaN: true })),
  inFlight: fc.integer({ min: 0, max: 500 }),
  dropped: fc.boolean(),
});

const boundsArb = fc
  .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([minLimit, span, at]) => ({ minLimit, maxLimit: minLimit + span, initialLimit: minLimit + Math.round(span * at) }));

const makers: Record<string, (b: { minLimit: number; maxLimit: number; initialLimit: number }, seed: number) => LimitAlgorithm> = {
  aimd: (b) => new AimdLimit(b),
  vegas: (b, seed) => new VegasLimit({ ...b, random: () => (seed % 1000) / 1000 }),
  gradient2: (b) => new Gradient2Limit(b),
  'windowed(vegas)': (b, seed) => new WindowedLimit(new VegasLimit({ ...b, random: () => (seed % 1000) / 1000 }), { minSamples: 1 }),
  'windowed(gradient2, p90)': (b) => new WindowedLimit(new Gradient2Limit(b), { minSamples: 2, percentile: 0.9 }),
};

describe('limit algorithms under arbitrary samples', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: the limit stays within [minLimit, maxLimit] and is finite`, () => {
      fc.assert(
        fc.property(boundsArb, fc.nat(), fc.array(sampleArb, { maxLength: 200 }), (b, seed, samples) => {
          const a = make(b, seed);
          for (const s of samples) {
            const l = a.onSample(s);
            expect(l).toBe(a.limit);
            expect(Number.isFinite(l)).toBe(true);
            expect(l).toBeGreaterThanOrEqual(b.minLimit);
            expect(l).toBeLessThanOrEqual(b.maxLimit);
          }
        }),
      );
    });

    it(`${name}: restoring a JSON copy of the state reproduces the future exactly`, () => {
      fc.assert(
        fc.property(boundsArb, fc.nat(), fc.array(sampleArb, { maxLength: 60 }), fc.array(sampleArb, { maxLength: 60 }), (b, seed, before, after) => {
          const a = make(b, seed);
          for (const s of before) a.onSample(s);
          const copy = make(b, seed);
          copy.restore(JSON.parse(JSON.stringify(a.state())));
          for (const s of after) expect(copy.onSample(s)).toBe(a.onSample(s));
        }),
      );
    });
  }

  it('AIMD: a drop (dropped, RTT > timeoutMs or > 1.05 × the no-load RTT) always lowers the limit (unless at minLimit); otherwise +1 exactly when 2·inFlight >= limit', () => {
    fc.assert(
      fc.property(boundsArb, fc.array(sampleArb, { maxLength: 100 }), (b, samples) => {
        const a = new AimdLimit({ ...b, timeoutMs: 5000 });
        for (const s of samples) {
          const before = a.limit;
          const after = a.onSample(s);
          // The no-load RTT after this sample is what the drop test compares with.
          if (s.dropped || s.rttMs > 5000 || s.rttMs > 1.05 * a.rttNoLoadMs) {
            expect(after).toBe(Math.max(b.minLimit, Math.floor(before * 0.95)));
            if (before > b.minLimit) expect(after).toBeLessThan(before);
          } else if (2 * s.inFlight >= before) {
            expect(after).toBe(Math.min(b.maxLimit, before + 1));
          } else {
            expect(after).toBe(before);
          }
        }
      }),
    );
  });

  it('Vegas: once the no-load RTT is known, an RTT well above it lowers the limit (unless at minLimit)', () => {
    fc.assert(
      fc.property(
        boundsArb,
        fc.double({ min: 1, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        (b, noLoad, factor) => {
          const v = new VegasLimit({ ...b, probeMultiplier: 10_000 });
          v.onSample({ startTime: 0, rttMs: noLoad, inFlight: b.initialLimit, dropped: false });
          const before = v.limit;
          const rtt = noLoad * (1 + factor);
          // queue = ⌈limit·(1 − noLoad/rtt)⌉ > beta whenever limit·factor/(1+factor) > 6·log; pick cases where it is.
          const log = Math.max(1, Math.floor(Math.log10(before)));
          fc.pre(Math.ceil(before * (1 - noLoad / rtt)) > 6 * log);
          const after = v.onSample({ startTime: 0, rttMs: rtt, inFlight: before, dropped: false });
          if (before > b.minLimit) expect(after).toBeLessThan(before);
          else expect(after).toBe(before);
        },
      ),
    );
  });

  it('Gradient2: an RTT at 2 × tolerance × the no-load RTT lowers a limit above 2·queueSize', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 500 }),
        fc.double({ min: 1, max: 1000, noNaN: true }),
        fc.double({ min: 2, max: 100, noNaN: true }),
        (limit, rtt, factor) => {
          const g = new Gradient2Limit({ initialLimit: limit, maxLimit: 1000 });
          g.onSample({ startTime: 0, rttMs: rtt, inFlight: 0, dropped: false }); // no-load RTT, app-limited
          const after = g.onSample({ startTime: 0, rttMs: rtt * factor, inFlight: limit, dropped: false });
          const gradient = Math.max(0.5, 1 / factor); // = 0.5 for factor >= 2
          expect(after).toBeCloseTo(0.5 * limit + 0.5 * (limit * gradient + 4), 9);
          expect(after).toBeLessThan(limit); // limit·(1 − gradient) > 4 for limit > 8
        },
      ),
    );
  });

  it('the no-load RTT never rises while every cut in concurrency is followed by the RTT (a queue, Little\'s law)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 300 }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 100 }),
        (knee, base, limits) => {
          const v = new VegasLimit({ probeMultiplier: 10_000, maxLimit: 1000 });
          const g = new Gradient2Limit({ maxLimit: 1000 });
          const a = new AimdLimit({ maxLimit: 1000 });
          for (const offered of [knee, ...limits]) {
            for (const x of [v, g, a]) {
              const n = Math.min(offered, x.limit); // a gate never runs more than the limit
              const rtt = base * Math.max(1, n / knee); // processor sharing past the knee
              x.onSample({ startTime: 0, rttMs: rtt, inFlight: n, dropped: false });
            }
          }
          for (const x of [v, g, a]) expect(x.rttNoLoadMs).toBeCloseTo(base, 9);
        },
      ),
    );
  });

  it('Vegas and Gradient2 never lower the limit while the RTT stays at its no-load value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0.1, max: 100, noNaN: true }), fc.integer({ min: 1, max: 50 }), (limit, rtt, n) => {
        const v = new VegasLimit({ initialLimit: limit, probeMultiplier: 10_000 });
        const g = new Gradient2Limit({ initialLimit: limit, maxLimit: 1000 });
        for (let i = 0; i < n; i++) {
          const vb = v.limit;
          const gb = g.limit;
          expect(v.onSample({ startTime: 0, rttMs: rtt, inFlight: Math.ceil(vb), dropped: false })).toBeGreaterThanOrEqual(vb);
          expect(g.onSample({ startTime: 0, rttMs: rtt, inFlight: Math.ceil(gb), dropped: false })).toBeGreaterThanOrEqual(gb);
        }
      }),
    );
  });
});
