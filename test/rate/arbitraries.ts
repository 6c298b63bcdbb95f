// fast-check arbitraries shared by the rate property tests.
import fc from 'fast-check';
import type { RatePolicyInput } from '../../src/rate/index.js';

/** Any policy of the three algorithms, small numbers (1–5 units, 0.5–1 s). */
export const anyPolicy: fc.Arbitrary<RatePolicyInput> = fc.oneof(
  fc.record({ algorithm: fc.constant('token-bucket' as const), rate: fc.integer({ min: 1, max: 5 }), perMs: fc.constant(1000), burst: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ algorithm: fc.constant('gcra' as const), rate: fc.integer({ min: 1, max: 5 }), perMs: fc.constant(1000), burst: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ algorithm: fc.constant('sliding-window' as const), limit: fc.integer({ min: 1, max: 5 }), windowMs: fc.constantFrom(500, 1000) }),
);
