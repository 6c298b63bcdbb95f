// Hostile-user probe: every public constructor, each option replaced by each bad value.
// Prints the cases that did NOT throw an InvalidOptionError naming the option (review by hand:
// some options legitimately take 0, Infinity or null). Run after `npm run build:unchecked`:
//   node scripts/hostile-option-fuzz.mjs
import * as s from 'sluice';
import * as lim from 'sluice/limit';
import * as cl from 'sluice/client';

const BAD = { str: '30d', neg: -1, zero: 0, nan: NaN, inf: Infinity, big: 1e309, huge: 2 ** 53, frac: 1.5, nul: null, bool: true, obj: {}, fn: () => 1 };
const cases = {
  TokenBucket: [(o) => new s.TokenBucket(o), { name: 'tb', rate: 10, perMs: 1000, burst: 2, maxWaitMs: 10 }],
  Gcra: [(o) => new s.Gcra(o), { rate: 10, perMs: 1000, burst: 2, maxWaitMs: 10 }],
  SlidingWindow: [(o) => new s.SlidingWindow(o), { limit: 10, windowMs: 1000, maxWaitMs: 10 }],
  ConcurrencyGate: [(o) => new s.ConcurrencyGate(o), { name: 'c', limit: 2, maxQueue: 5, maxWaitMs: 10, discipline: 'fifo', refuseEarly: false }],
  Channel: [(o) => new s.Channel(o), { capacity: 4, overflow: 'block', maxPutWaitMs: 10, discipline: 'fifo', name: 'ch' }],
  CircuitBreaker: [(o) => new s.CircuitBreaker(o), { openMs: 1000, openBackoff: 2, maxOpenMs: 5000, probes: 1 }],
  RetryPolicy: [(o) => new s.RetryPolicy(o), { maxAttempts: 3, jitter: 'full', baseDelayMs: 100, maxDelayMs: 1000, attemptTimeoutMs: 50, deadlineMs: 500, maxRetryAfterMs: 1000 }],
  RetryBudget: [(o) => new s.RetryBudget(o), { ratio: 0.2, minRetries: 10, windowMs: 10000, buckets: 10 }],
  AdaptiveThrottle: [(o) => new s.AdaptiveThrottle(o), { k: 2, windowMs: 120000, buckets: 60 }],
  MemoryStore: [(o) => new s.MemoryStore(o), { maxKeys: 100, minTurnoverMs: 1000 }],
  KeyedRateLimiter: [(o) => new s.KeyedRateLimiter(o), { policy: { algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 2 } }],
  consecutiveFailures: [(o) => s.consecutiveFailures(o), { threshold: 5 }],
  countWindow: [(o) => s.countWindow(o), { size: 100, failureRatio: 0.5, minimumCalls: 20, slowCallMs: 100, slowCallRatio: 1 }],
  timeWindow: [(o) => s.timeWindow(o), { windowMs: 10000, buckets: 10, failureRatio: 0.5, minimumCalls: 20 }],
  AimdLimit: [(o) => new lim.AimdLimit(o), { initialLimit: 20, minLimit: 1, maxLimit: 200, backoffRatio: 0.95, timeoutMs: 5000, rttTolerance: 1.05 }],
  Gradient2Limit: [(o) => new lim.Gradient2Limit(o), { initialLimit: 20, minLimit: 1, maxLimit: 200, smoothing: 0.5, rttTolerance: 1, queueSize: 4 }],
  VegasLimit: [(o) => new lim.VegasLimit(o), { initialLimit: 20, minLimit: 1, maxLimit: 1000, smoothing: 1, probeMultiplier: 30, queueAlpha: 0.03, queueBeta: 0.06 }],
  PressureMonitor: [(o) => new s.PressureMonitor(o), { intervalMs: 1000, minDwellMs: 0, hysteresis: 0 }],
  customSignal: [(o) => s.customSignal(o), { name: 'x', read: () => 1, slowAt: 50, rejectAt: 200 }],
  Pacer: [(o) => new cl.Pacer(o), { maxHoldMs: 60000, maxWaitMs: 100 }],
  createClient: [(o) => cl.createClient(o), { name: 'hc', concurrency: 64, maxQueue: 1024, deadlineMs: 100, maxOrigins: 1000, retryNonIdempotent: false }],
};
let findings = 0;
for (const [name, [make, base]] of Object.entries(cases)) {
  try { const x = make({ ...base }); x?.close?.(); x?.stop?.(); } catch (e) { console.log(`${name}: base options throw: ${e.message}`); continue; }
  const probe = (label, opts, key) => {
    try {
      const x = make(opts);
      x?.close?.(); x?.stop?.();
      console.log(`ACCEPTED ${name}.${key} = ${label}`); findings++;
    } catch (e) {
      if (!(e instanceof s.InvalidOptionError)) { console.log(`WRONG-ERROR ${name}.${key} = ${label}: ${e?.constructor?.name}: ${e?.message}`); findings++; }
      else if (key && !String(e.message).includes(key)) { console.log(`UNNAMED ${name}.${key} = ${label}: ${e.message}`); findings++; }
    }
  };
  for (const key of Object.keys(base)) for (const [label, v] of Object.entries(BAD)) probe(label, { ...base, [key]: v }, key);
  probe('typo', { ...base, naem: 'x' }, 'naem');
  probe('undefined-options', undefined, '');
  probe('null-options', null, '');
  probe('number-options', 3, '');
}
console.log(`${findings} cases to review`);
