// Unknown option keys are refused at construction with the option-error template, naming the
// nearest known key; ranges read as a person writes them.
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AdaptiveThrottle,
  AimdLimit,
  Gradient2Limit,
  LoadShedder,
  PressureMonitor,
  VegasLimit,
  Channel,
  CircuitBreaker,
  ConcurrencyGate,
  Gcra,
  KeyedRateLimiter,
  MemoryStore,
  RejectedError,
  RetryBudget,
  RetryPolicy,
  SlidingWindow,
  TokenBucket,
  VirtualClock,
} from '../../src/index.js';
import type { Admission, RateStore } from '../../src/index.js';
// The option checkers are internal (not exported by sluice): tested from the core's own barrel.
import { nearestKey, optNumber } from '../../src/core/index.js';
import { createClient, Pacer } from '../../src/http-client/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpAdmissionOptions, HttpRequestLike } from '../../src/http/index.js';
import type { ChannelOptions } from '../../src/queue/index.js';
import { thrown } from '../option-error.js';

const loose = <T>(o: Record<string, unknown>): T => o as T;

describe('unknown option keys', () => {
  it('a misspelled key names the nearest known one', () => {
    const e = thrown(() => new ConcurrencyGate(loose({ limit: 10, maxQeue: 100 })));
    expect(e.option).toBe('maxQeue');
    expect(e.message).toBe('maxQeue: expected one of the ConcurrencyGate options (did you mean "maxQueue"?), received 100');
  });

  it("another library's option names: the known keys are listed", () => {
    // express-rate-limit's names: without the check this policy would have had no limit at all.
    const e = thrown(() => new HttpAdmission(loose<HttpAdmissionOptions<HttpRequestLike>>({ windowMs: 60_000, limit: 100 })));
    expect(e.option).toBe('windowMs');
    expect(e.message).toMatch(/^windowMs: expected one of the HttpAdmission options: name, clock, maxWaitMs, classify, concurrency, rateLimits, .*, received 60000$/);
  });

  const cases: [string, () => unknown, string, RegExp][] = [
    ['ConcurrencyGate', () => new ConcurrencyGate(loose({ limit: 1, maxWait: 5 })), 'maxWait', /did you mean "maxWaitMs"/],
    ['TokenBucket', () => new TokenBucket(loose({ rate: 10, brust: 5 })), 'brust', /TokenBucket options \(did you mean "burst"\?\)/],
    ['Gcra', () => new Gcra(loose({ rate: 10, per: 1000 })), 'per', /Gcra options \(did you mean "perMs"\?\)/],
    ['SlidingWindow', () => new SlidingWindow(loose({ limit: 10, window: 1000 })), 'window', /did you mean "windowMs"/],
    ['KeyedRateLimiter', () => new KeyedRateLimiter(loose({ policy: { algorithm: 'gcra', rate: 1 }, maxkeys: 10 })), 'maxkeys', /did you mean "maxKeys"/],
    ['Channel', () => new Channel(loose<ChannelOptions<unknown>>({ capacity: 1, overflw: 'reject' })), 'overflw', /did you mean "overflow"/],
    ['RetryPolicy', () => new RetryPolicy(loose({ retries: 3 })), 'retries', /^retries: expected one of the RetryPolicy options: clock, random, maxAttempts, /],
    ['RetryBudget', () => new RetryBudget(loose({ minRetrys: 3 })), 'minRetrys', /did you mean "minRetries"/],
    ['AdaptiveThrottle', () => new AdaptiveThrottle(loose({ K: 2 })), 'K', /did you mean "k"/],
    ['CircuitBreaker', () => new CircuitBreaker(loose({ threshold: 5 })), 'threshold', /^threshold: expected one of the CircuitBreaker options: name, clock, rule, /],
    ['createClient', () => createClient(loose({ retries: 3 })), 'retries', /^retries: expected one of the createClient options: .*retry, /],
    ['Pacer', () => new Pacer(loose({ maxHold: 5 })), 'maxHold', /did you mean "maxHoldMs"/],
    ['HttpAdmission concurrency', () => new HttpAdmission(loose<HttpAdmissionOptions<HttpRequestLike>>({ concurrency: { limit: 5, maxQeue: 10 } })), 'concurrency.maxQeue', /one of the concurrency options \(did you mean "maxQueue"\?\)/],
    ['HttpAdmission rateLimits', () => new HttpAdmission(loose<HttpAdmissionOptions<HttpRequestLike>>({ rateLimits: [{ algorithm: 'gcra', rate: 5, brust: 5 }] })), 'rateLimits[0].brust', /did you mean "burst"/],
    ['KeyedRateLimiter policy', () => new KeyedRateLimiter(loose({ policy: { algorithm: 'gcra', rate: 1, windowSize: 1000 } })), 'policy.windowSize', /one of the rate policy options/],
    ['PressureMonitor', () => new PressureMonitor(loose({ signals: [], interval: 100 })), 'interval', /did you mean "intervalMs"/],
    ['LoadShedder', () => new LoadShedder(loose({ pressure: {}, limits: 5 })), 'limits', /did you mean "limit"/],
    ['AimdLimit', () => new AimdLimit(loose({ backoff: 0.9 })), 'backoff', /did you mean "backoffRatio"/],
    ['Gradient2Limit', () => new Gradient2Limit(loose({ initial: 10 })), 'initial', /did you mean "initialLimit"/],
    ['VegasLimit', () => new VegasLimit(loose({ maxlimit: 10 })), 'maxlimit', /did you mean "maxLimit"/],
  ];
  for (const [owner, make, option, message] of cases) {
    it(`${owner} refuses ${option}`, () => {
      const e = thrown(make);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
    });
  }

  it('known keys pass, an explicit undefined included', () => {
    expect(() => new ConcurrencyGate({ limit: 1, maxQueue: 2, maxWaitMs: 10, name: 'db' })).not.toThrow();
    expect(() => new TokenBucket({ rate: 1, burst: 2, perMs: 1000, maxWaitMs: 0 })).not.toThrow();
    expect(() => new RetryPolicy({ maxAttempts: 3 })).not.toThrow();
    expect(() => new CircuitBreaker({ openMs: 1000 })).not.toThrow();
  });

  it('nearestKey: slips only, not any key', () => {
    expect(nearestKey('maxQeue', ['limit', 'maxQueue'])).toBe('maxQueue');
    expect(nearestKey('maxqueue', ['limit', 'maxQueue'])).toBe('maxQueue');
    expect(nearestKey('brust', ['rate', 'burst'])).toBe('burst');
    expect(nearestKey('retries', ['maxAttempts', 'jitter'])).toBeUndefined();
    expect(nearestKey('ab', ['xy'])).toBeUndefined();
    expect(nearestKey('per', ['rate', 'perMs'])).toBe('perMs');
  });
});

describe("createClient: each origin's sections, checked once at construction", () => {
  const sections: [string, Record<string, unknown>, string, RegExp][] = [
    ['breaker', { breaker: { openMS: 1000 } }, 'breaker.openMS', /^breaker\.openMS: expected one of the breaker options \(did you mean "openMs"\?\)/],
    ['throttle', { throttle: { K: 2 } }, 'throttle.K', /did you mean "k"/],
    ['pacing', { pacing: { maxHold: 100 } }, 'pacing.maxHold', /one of the pacing options \(did you mean "maxHoldMs"\?\)/],
    ['budget', { budget: { minRetrys: 3 } }, 'budget.minRetrys', /one of the budget options \(did you mean "minRetries"\?\)/],
    ['retry', { retry: { maxAttempt: 3 } }, 'retry.maxAttempt', /one of the retry options \(did you mean "maxAttempts"\?\)/],
    // A value out of range is named under its section too, at construction, not at an origin's first call.
    ['breaker range', { breaker: { openMs: 0 } }, 'breaker.openMs', /^breaker\.openMs: expected a finite number > 0, received 0$/],
    ['retry range', { retry: { maxAttempts: 0 } }, 'retry.maxAttempts', /^retry\.maxAttempts: expected an integer/],
  ];
  for (const [what, options, option, message] of sections) {
    it(`refuses ${what}: ${option}`, () => {
      let fetched = 0;
      const e = thrown(() => createClient(loose({ fetch: () => Promise.resolve(new Response(null, { status: fetched++ })), ...options })));
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
      expect(fetched).toBe(0);
    });
  }

  it('a checked config serves every origin: each gets its own breaker from the same section', async () => {
    const clock = new VirtualClock();
    const client = createClient({ clock, retry: false, throttle: false, pacing: { maxHoldMs: 100 }, breaker: { openMs: 1000 }, fetch: () => Promise.resolve(new Response('ok')) });
    for (const origin of ['http://a.test', 'http://b.test', 'http://c.test']) expect((await client.fetch(`${origin}/x`)).status).toBe(200);
    expect(client.stats().map((s) => [s.origin, s.breaker?.state])).toEqual([
      ['http://a.test', 'closed'],
      ['http://b.test', 'closed'],
      ['http://c.test', 'closed'],
    ]);
    client.close();
  });
});

describe('messages', () => {
  it('a positive range reads "> 0", a finite one "a finite number"', () => {
    expect(() => optNumber('openMs', 0, Number.MIN_VALUE)).toThrow('openMs: expected a number > 0, received 0');
    expect(() => optNumber('rate', 0, Number.MIN_VALUE, Number.MAX_VALUE)).toThrow('rate: expected a finite number > 0, received 0');
    expect(() => optNumber('ratio', 2, Number.MIN_VALUE, 1)).toThrow('ratio: expected a number in (0, 1], received 2');
    expect(thrown(() => new TokenBucket({ rate: 0 })).message).toBe('rate: expected a finite number > 0, received 0');
  });

  it('a concurrency gate without a queue says why it refuses, and how to queue', async () => {
    const gate = new ConcurrencyGate({ limit: 1, name: 'db' });
    const held = await gate.acquire();
    const refusal = gate.admit();
    expect(refusal).toMatchObject({ ok: false, reason: 'concurrency', detail: expect.stringMatching(/maxQueue is 0; set maxQueue/) });
    await expect(gate.acquire()).rejects.toThrow(/^db: rejected \(concurrency\): every slot is in use and nothing may wait \(maxQueue is 0; set maxQueue to let callers queue\); retry after/);
    held.release();
    // With a queue, a full queue is `queue_full` and needs no such note.
    const queued = new ConcurrencyGate({ limit: 1, maxQueue: 1 });
    const p = await queued.acquire();
    const waiting = queued.acquire();
    const full = queued.admit();
    expect(full).toMatchObject({ ok: false, reason: 'queue_full', detail: undefined });
    p.release();
    (await waiting).release();
    expect(new RejectedError({ ok: false, gate: 'g', reason: 'rate_limited', retryAfterMs: 5, facts: undefined }).message).toBe('g: rejected (rate_limited); retry after 5 ms');
  });
});

describe('tryAdmit: the value API without a promise', () => {
  it('rate gates: a permit or the exact refusal, even when the gate lets callers wait', () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock, maxWaitMs: 1000 });
    const first: Admission = bucket.tryAdmit();
    expect(first.ok).toBe(true);
    const second = bucket.tryAdmit();
    expect(second).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 100 });
    expect(bucket.stats().queued).toBe(0);
    const perTenant = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1, burst: 1 }, clock });
    expect(perTenant.tryAdmit({ key: 'a' }).ok).toBe(true);
    expect(perTenant.tryAdmit({ key: 'a' }).ok).toBe(false);
    expect(() => bucket.tryAdmit({ signal: AbortSignal.abort() })).toThrow(AbortedError);
  });

  it('a keyed limiter over a store that answers with promises refuses tryAdmit', () => {
    const memory = new MemoryStore();
    const remote: RateStore = {
      consume: async (...args) => memory.consume(...args),
      refund: (...args) => memory.refund(...args),
      delete: (key) => memory.delete(key),
      clear: () => memory.clear(),
      get size() {
        return memory.size;
      },
    };
    const limiter = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1 }, store: remote });
    expect(() => limiter.tryAdmit({ key: 'a' })).toThrow(/tryAdmit: expected a gate whose store answers synchronously/);
  });

  it('a concurrency gate: a free slot now, else a refusal; it never queues', () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, maxWaitMs: 1000 });
    const held = gate.tryAdmit();
    expect(held.ok).toBe(true);
    expect(gate.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(gate.stats().queued).toBe(0);
    if (held.ok) held.release();
    expect(gate.tryAdmit().ok).toBe(true);
  });
});

