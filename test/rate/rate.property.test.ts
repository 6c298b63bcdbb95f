// Properties of the rate algorithms over random arrival sequences (fast-check), each
// compared with an independent statement of the definition, all on the virtual clock.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPromise, VirtualClock } from '../../src/core/index.js';
import type { AdmissionContext } from '../../src/core/index.js';
import { gcra, Gcra, KeyedRateLimiter, ratePolicy, SlidingWindow, slidingWindow, TokenBucket, tokenBucket } from '../../src/rate/index.js';
import type { GcraPolicy, SlidingWindowPolicy, TokenBucketPolicy } from '../../src/rate/index.js';
import { anyPolicy } from './arbitraries.js';

/** RATE_PROPERTY_SCALE=20 npx vitest run test/rate — a longer hunt for counterexamples. */
const scale = Number(process.env['RATE_PROPERTY_SCALE'] ?? 1);
const runs = (n: number): { numRuns: number } => ({ numRuns: Math.ceil(n * scale) });

const arrival = (maxGap: number, maxCost: number) => fc.record({ gap: fc.integer({ min: 0, max: maxGap }), cost: fc.integer({ min: 1, max: maxCost }) });

describe('token bucket and GCRA: at most burst + rate·t units in any interval of length t', () => {
  for (const [label, Gate] of [
    ['TokenBucket', TokenBucket],
    ['Gcra', Gcra],
  ] as const) {
    it(`${label}, with waits and aborts, measured at grant times`, () => {
      fc.assert(
        fc.property(
          fc.record({
            rate: fc.integer({ min: 1, max: 20 }),
            perMs: fc.constantFrom(100, 250, 1000, 1024),
            burst: fc.integer({ min: 1, max: 10 }),
            maxWaitMs: fc.constantFrom(0, 50, 500, 5000),
          }),
          fc.array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), cost: fc.integer({ min: 1, max: 12 }), abortAfter: fc.option(fc.integer({ min: 0, max: 600 })) }), { maxLength: 60 }),
          (cfg, requests) => {
            const clock = new VirtualClock();
            const gate = new Gate({ ...cfg, clock });
            const grants: { at: number; cost: number }[] = [];
            gate.on((e) => {
              if (e.type === 'admit') grants.push({ at: e.at, cost: e.cost });
            });
            for (const r of requests) {
              clock.advance(r.gap);
              const ac = r.abortAfter === null ? undefined : new AbortController();
              const ctx: AdmissionContext = ac === undefined ? { cost: r.cost } : { cost: r.cost, signal: ac.signal };
              const a = gate.admit(ctx);
              if (isPromise(a)) {
                a.catch(() => undefined);
                if (ac !== undefined) clock.setTimer(() => ac.abort(), r.abortAfter!);
              }
            }
            clock.advance(1e7);
            expect(gate.stats().queued).toBe(0);
            const perMsRate = cfg.rate / cfg.perMs;
            for (let i = 0; i < grants.length; i++) {
              let sum = 0;
              for (let j = i; j < grants.length; j++) {
                sum += grants[j]!.cost;
                expect(sum).toBeLessThanOrEqual(cfg.burst + perMsRate * (grants[j]!.at - grants[i]!.at) + 1e-6);
              }
            }
          },
        ),
        runs(150),
      );
    });
  }
});

/** ITU-T I.371 virtual scheduling, one cell at a time; a cost c is c cells at one instant, all or none. */
function referenceGcra(T: number, tau: number) {
  let TAT = -Infinity;
  const conforms = (t: number, cost: number, commit: boolean): boolean => {
    let tat = TAT;
    for (let k = 0; k < cost; k++) {
      if (t < tat - tau) return false;
      tat = Math.max(t, tat) + T;
    }
    if (commit) TAT = tat;
    return true;
  };
  return conforms;
}

describe('GCRA matches its definition (virtual scheduling) and the token bucket', () => {
  it('same decisions as the reference; a refusal’s retryAfterMs is the earliest time the reference accepts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0.5, 1, 2, 4, 16, 64, 128),
        fc.integer({ min: 1, max: 8 }),
        fc.array(arrival(150, 9), { maxLength: 80 }),
        (T, burst, arrivals) => {
          const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: T, burst }) as GcraPolicy;
          const state = gcra.fresh(policy, 0);
          const ref = referenceGcra(T, T * (burst - 1));
          let t = 0;
          for (const { gap, cost } of arrivals) {
            t += gap;
            const d = gcra.step(state, policy, cost, t, 0);
            if (!d.allowed && Number.isFinite(d.retryAfterMs)) {
              expect(ref(t + d.retryAfterMs, cost, false)).toBe(true);
              if (d.retryAfterMs > 1e-3) expect(ref(t + d.retryAfterMs - 1e-3, cost, false)).toBe(false);
            }
            expect(d.allowed).toBe(ref(t, cost, true));
            if (cost > burst) expect(d.retryAfterMs).toBe(Infinity);
          }
        },
      ),
      runs(300),
    );
  });

  it('a token bucket of the same rate and burst decides exactly the same, reservations included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0.5, 1, 4, 32, 128),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 150 }), cost: fc.integer({ min: 1, max: 9 }), maxDelay: fc.constantFrom(0, 64, 1024) }), { maxLength: 80 }),
        (T, burst, arrivals) => {
          const g = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: T, burst, name: 'p' }) as GcraPolicy;
          const b = ratePolicy({ algorithm: 'token-bucket', rate: 1, perMs: T, burst, name: 'p' }) as TokenBucketPolicy;
          const sg = gcra.fresh(g, 0);
          const sb = tokenBucket.fresh(b, 0);
          let t = 0;
          for (const { gap, cost, maxDelay } of arrivals) {
            t += gap;
            expect(tokenBucket.step(sb, b, cost, t, maxDelay)).toEqual(gcra.step(sg, g, cost, t, maxDelay));
          }
        },
      ),
      runs(300),
    );
  });
});

describe('sliding window', () => {
  /**
   * Proven: (1) every decision equals the definition evaluated on the log of admitted
   * requests: allow iff prevCount·(1 − elapsed/w) + currCount + cost ≤ limit, where the counts
   * are the admitted units in the previous and current fixed windows; (2) retryAfterMs is the
   * earliest time that definition would allow; (3) hence every fixed window admits at most
   * `limit`, and any interval (t − w, t] ending at an admission at elapsed e admits at most
   * limit·(1 + e/w) < 2·limit.
   */
  it('decides by the estimate formula over the admitted log; exact retry; window bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom(100, 128, 1000),
        fc.array(arrival(300, 11), { maxLength: 80 }),
        (limit, w, arrivals) => {
          const policy = ratePolicy({ algorithm: 'sliding-window', limit, windowMs: w }) as SlidingWindowPolicy;
          const state = slidingWindow.fresh(policy, 0);
          const log: { t: number; cost: number }[] = [];
          const refEstimate = (t: number): number => {
            const k = Math.floor(t / w);
            let prev = 0;
            let curr = 0;
            for (const a of log) {
              const ka = Math.floor(a.t / w);
              if (ka === k) curr += a.cost;
              else if (ka === k - 1) prev += a.cost;
            }
            const elapsed = t - k * w;
            return prev * (1 - (elapsed > 0 ? elapsed / w : 0)) + curr;
          };
          const refAllows = (t: number, cost: number): boolean => refEstimate(t) + cost <= limit;
          let t = 0;
          for (const { gap, cost } of arrivals) {
            t += gap;
            const d = slidingWindow.step(state, policy, cost, t, 0);
            expect(d.allowed).toBe(refAllows(t, cost));
            if (d.allowed) log.push({ t, cost });
            else if (Number.isFinite(d.retryAfterMs)) {
              expect(refAllows(t + d.retryAfterMs, cost)).toBe(true);
              if (d.retryAfterMs > 1e-6) expect(refAllows(t + d.retryAfterMs - 1e-6, cost)).toBe(false);
            } else expect(cost).toBeGreaterThan(limit);
          }
          const perWindow = new Map<number, number>();
          for (const a of log) perWindow.set(Math.floor(a.t / w), (perWindow.get(Math.floor(a.t / w)) ?? 0) + a.cost);
          for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(limit);
          for (const end of log) {
            const inside = log.filter((a) => a.t > end.t - w && a.t <= end.t).reduce((s, a) => s + a.cost, 0);
            const e = end.t - Math.floor(end.t / w) * w;
            expect(inside).toBeLessThanOrEqual(limit * (1 + e / w) + 1e-9);
          }
        },
      ),
      runs(300),
    );
  });
});


describe('keyed limiter', () => {
  it('memory stays within maxKeys under any key stream', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 50 })), { maxLength: 400 }), (maxKeys, stream) => {
        const clock = new VirtualClock();
        const gate = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1, burst: 2 }, maxKeys, clock });
        for (const [k, gap] of stream) {
          clock.advance(gap);
          void gate.admit({ key: `k${k}` });
          expect(gate.stats().keys).toBeLessThanOrEqual(maxKeys);
        }
      }),
      runs(200),
    );
  });

  it('with room for every key, decides exactly like one gate per key, idle expiry notwithstanding', () => {
    const gates = { 'token-bucket': TokenBucket, gcra: Gcra, 'sliding-window': SlidingWindow } as const;
    fc.assert(
      fc.property(
        anyPolicy,
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), anyPolicy),
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), gap: fc.integer({ min: 0, max: 1500 }), cost: fc.integer({ min: 1, max: 6 }) }), { maxLength: 120 }),
        (policy, overrides, requests) => {
          const clock = new VirtualClock();
          const keyed = new KeyedRateLimiter({ policy, overrides, minTurnoverMs: 0, clock });
          const single = new Map<string, TokenBucket | Gcra | SlidingWindow>();
          const gateFor = (key: string) => {
            let g = single.get(key);
            if (g === undefined) {
              const p = overrides[key] ?? policy;
              const { algorithm, ...fields } = p;
              g = new gates[algorithm]({ ...(fields as { rate: number; limit: number; windowMs: number }), clock });
              single.set(key, g);
            }
            return g;
          };
          for (const r of requests) {
            clock.advance(r.gap);
            const expected = gateFor(r.key).admit({ cost: r.cost });
            const got = keyed.admit({ key: r.key, cost: r.cost });
            if (isPromise(expected) || isPromise(got)) throw new Error('no waits expected');
            expect(got.ok).toBe(expected.ok);
            if (!got.ok && !expected.ok) expect(got.retryAfterMs).toBe(expected.retryAfterMs);
          }
        },
      ),
      runs(200),
    );
  });

  it('applies a per-key override: a fresh key admits exactly its own burst at one instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.string({ minLength: 1, maxLength: 8 }), (defaultBurst, vipBurst, vipKey) => {
        const gate = new KeyedRateLimiter({
          policy: { algorithm: 'token-bucket', rate: 1, burst: defaultBurst },
          overrides: new Map([[vipKey, { algorithm: 'gcra', rate: 1, burst: vipBurst }]]),
          clock: new VirtualClock(),
        });
        const burstOf = (key: string): number => {
          let n = 0;
          while (n <= 40 && (gate.admit({ key }) as { ok: boolean }).ok) n++;
          return n;
        };
        expect(burstOf(vipKey)).toBe(vipBurst);
        expect(burstOf(`${vipKey}-other`)).toBe(defaultBurst);
      }),
      runs(200),
    );
  });
});
