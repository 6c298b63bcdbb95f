// Unknown keys in a call's options are refused as constructors' are: a misspelt `sginal` left
// the wait unabortable and a misspelt `maxWait` left it unbounded, in silence. The error names
// the call, the key, and the nearest known key (or the list of them).
import { describe, expect, it } from 'vitest';
import {
  AdaptiveThrottle,
  Channel,
  CircuitBreaker,
  compose,
  ConcurrencyGate,
  InvalidOptionError,
  KeyedRateLimiter,
  LoadShedder,
  PressureMonitor,
  queueSignal,
  RetryPolicy,
  run,
  TokenBucket,
  VirtualClock,
} from '../../src/index.js';
import type { Admission, AdmissionContext, Gate } from '../../src/index.js';
import { Pacer } from '../../src/http-client/index.js';
import { CONTEXT_KEYS, isContextKey } from '../../src/core/gate-base.js';

const loose = <T>(o: Record<string, unknown>): T => o as T;
const signal = new AbortController().signal;

/** The option error `call` throws or rejects with. */
async function refused(call: () => unknown): Promise<InvalidOptionError> {
  let err: unknown;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error('called without an error');
  expect(err).toBeInstanceOf(InvalidOptionError);
  return err as InvalidOptionError;
}

const clock = new VirtualClock();
const monitor = (): PressureMonitor => new PressureMonitor({ clock, signals: [queueSignal(() => 0, { capacity: 10 })] });
const full = (): ConcurrencyGate => {
  const g = new ConcurrencyGate({ clock, limit: 1, maxQueue: 10 });
  g.hold();
  return g;
};

describe('unknown keys of a call', () => {
  it('acquire({ sginal }) names the call and the key meant', async () => {
    const e = await refused(() => full().acquire(loose({ sginal: signal })));
    expect(e.option).toBe('sginal');
    expect(e.message).toBe('sginal: expected one of the ConcurrencyGate.acquire/admit options (did you mean "signal"?), received an object');
  });

  it('a key from nowhere near: the known keys are listed', async () => {
    const e = await refused(() => new TokenBucket({ clock, rate: 1, burst: 1 }).acquire(loose({ tenant: 'a' })));
    expect(e.message).toBe('tenant: expected one of the TokenBucket.acquire/admit options: key, priority, cost, deadline, maxWaitMs, partition, signal, received "a"');
  });

  const ctx = (o: Record<string, unknown>): AdmissionContext => loose<AdmissionContext>(o);
  const cases: [string, () => unknown, string, RegExp][] = [
    ['ConcurrencyGate.admit', () => full().admit(ctx({ maxWait: 5 })), 'maxWait', /^maxWait: expected one of the ConcurrencyGate\.acquire\/admit options \(did you mean "maxWaitMs"\?\)/],
    ['ConcurrencyGate.tryAdmit', () => full().tryAdmit(ctx({ partiton: 'a' })), 'partiton', /ConcurrencyGate\.tryAdmit options \(did you mean "partition"\?\)/],
    ['ConcurrencyGate.earlyRefusal', () => full().earlyRefusal(ctx({ deadLine: 5 })), 'deadLine', /ConcurrencyGate\.earlyRefusal options \(did you mean "deadline"\?\)/],
    ['KeyedRateLimiter.admit', () => new KeyedRateLimiter({ clock, policy: { algorithm: 'gcra', rate: 1 } }).admit(ctx({ key: 'a', cots: 2 })), 'cots', /KeyedRateLimiter\.acquire\/admit options \(did you mean "cost"\?\)/],
    ['TokenBucket.tryAdmit', () => new TokenBucket({ clock, rate: 1, burst: 1 }).tryAdmit(ctx({ prio: 1 })), 'prio', /TokenBucket\.acquire\/admit options \(did you mean "priority"\?\)/],
    ['compose().acquire', () => compose(new TokenBucket({ clock, rate: 1, burst: 1 })).acquire(ctx({ sigal: signal })), 'sigal', /ComposedGate\.acquire\/admit options \(did you mean "signal"\?\)/],
    ['CircuitBreaker.acquire', () => new CircuitBreaker({ clock }).acquire(ctx({ Key: 'a' })), 'Key', /CircuitBreaker\.acquire\/admit options \(did you mean "key"\?\)/],
    ['CircuitBreaker.execute', () => new CircuitBreaker({ clock }).execute(() => 1, loose({ clasify: () => 'success' })), 'clasify', /CircuitBreaker\.execute options \(did you mean "classify"\?\)/],
    ['CircuitBreaker.restoreState', () => new CircuitBreaker({ clock }).restoreState(new CircuitBreaker({ clock }).exportState(), loose({ rebse: true })), 'rebse', /CircuitBreaker\.restoreState options \(did you mean "rebase"\?\)/],
    ['run', () => run(full(), () => 1, loose({ classifyErr: () => 'failure' })), 'classifyErr', /^classifyErr: expected one of the run options \(did you mean "classifyError"\?\)/],
    ['RetryPolicy.execute', () => new RetryPolicy({ clock }).execute(() => 1, loose({ deadlineMs: 5 })), 'deadlineMs', /RetryPolicy\.execute options \(did you mean "deadline"\?\)/],
    ['AdaptiveThrottle.acquire', () => new AdaptiveThrottle({ clock }).acquire(ctx({ costs: 1 })), 'costs', /AdaptiveThrottle\.acquire\/admit options \(did you mean "cost"\?\)/],
    ['LoadShedder.admit', () => new LoadShedder({ clock, pressure: monitor() }).admit(ctx({ priorty: 1 })), 'priorty', /LoadShedder\.acquire\/admit options \(did you mean "priority"\?\)/],
    ['Pacer.acquire', () => new Pacer({ clock }).acquire(ctx({ maxWaitMS: 1 })), 'maxWaitMS', /Pacer\.acquire\/admit options \(did you mean "maxWaitMs"\?\)/],
    ['Channel.put', () => new Channel({ clock, capacity: 1 }).put(1, ctx({ singal: signal })), 'singal', /^singal: expected one of the Channel\.put options \(did you mean "signal"\?\)/],
    ['Channel.tryPut', () => new Channel({ clock, capacity: 1 }).tryPut(1, ctx({ prioity: 1 })), 'prioity', /Channel\.tryPut options \(did you mean "priority"\?\)/],
    ['Channel.putMany', () => new Channel({ clock, capacity: 1 }).putMany([1], ctx({ dealine: 1 })), 'dealine', /Channel\.putMany options \(did you mean "deadline"\?\)/],
    // A take has no key or priority: given one, it was ignored.
    ['Channel.take', () => new Channel({ clock, capacity: 1 }).take(ctx({ priority: 1 })), 'priority', /^priority: expected one of the Channel\.take options: deadline, maxWaitMs, signal, received 1$/],
    ['Channel.take(max)', () => new Channel({ clock, capacity: 1 }).take(2, ctx({ maxWait: 1 })), 'maxWait', /Channel\.take options \(did you mean "maxWaitMs"\?\)/],
    ['PressureMonitor.waitFor', () => monitor().waitFor('ok', loose({ abort: signal })), 'abort', /PressureMonitor\.waitFor options: signal, received an object$/],
  ];
  for (const [call, make, option, message] of cases) {
    it(`${call} refuses ${option}`, async () => {
      const e = await refused(make);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
    });
  }

  it('known keys pass, an explicit undefined included, and run() hands the gate its context without classify', async () => {
    const seen: string[][] = [];
    const inner = new TokenBucket({ clock, rate: 1, burst: 5 });
    const recording: Gate = Object.assign(Object.create(inner) as Gate, {
      admit(c?: AdmissionContext): Admission | Promise<Admission> {
        seen.push(Object.keys(c ?? {}));
        return inner.admit(c);
      },
    });
    expect(await run(recording, () => 7, loose({ key: 'k', signal, classify: () => 'success', classifyError: undefined }))).toBe(7);
    expect(await run(recording, () => 8, { priority: 1 })).toBe(8);
    expect(seen).toEqual([['key', 'signal'], ['priority']]);
    const breaker = new CircuitBreaker({ clock });
    expect(await breaker.execute(() => 9, loose({ classify: () => 'success', signal, deadline: undefined }))).toBe(9);
    const ch = new Channel<number>({ clock, capacity: 2 });
    expect(await ch.put(1, { key: 'a', priority: 1, deadline: 5, maxWaitMs: 5, signal })).toBe('accepted');
    expect(await ch.take({ deadline: 5, maxWaitMs: 5, signal })).toBe(1);
    expect(await new RetryPolicy({ clock }).execute(() => 3, loose({ signal, deadline: undefined }))).toBe(3);
    const gate = new ConcurrencyGate({ clock, limit: 1 });
    (await gate.acquire(ctx({ key: 'a', priority: 0, cost: 1, deadline: 10, maxWaitMs: 10, signal, partition: undefined }))).release();
  });

  it('run() walks its options\' keys once, and the skip is for that call only', async () => {
    // A Proxy counts the walks: for...in asks ownKeys once per walk.
    let walks = 0;
    const counted = <T extends object>(o: T): T => new Proxy(o, { ownKeys: (t) => (walks++, Reflect.ownKeys(t)) });
    const gate = new ConcurrencyGate({ clock, limit: 2 });
    expect(await run(gate, () => 1, counted({ key: 'k', priority: 1 }))).toBe(1);
    expect(walks).toBe(1);
    // The gate's own admit still walks a context it is handed directly, after run() too.
    const o = loose<AdmissionContext & Record<string, unknown>>({ key: 'k' });
    expect(await run(gate, () => 2, o)).toBe(2);
    o.sginal = signal;
    expect((await refused(() => gate.admit(o))).option).toBe('sginal');
    expect((await refused(() => run(gate, () => 3, o))).message).toMatch(/^sginal: expected one of the run options \(did you mean "signal"\?\)/);
  });

  it('isContextKey() holds every key of CONTEXT_KEYS and nothing else', () => {
    for (const key of CONTEXT_KEYS) expect(isContextKey(key)).toBe(true);
    for (const key of ['classify', 'Key', 'signals', '', 'constructor', 'toString']) expect(isContextKey(key)).toBe(false);
  });

  it('symbol keys are not options (sluice marks its own contexts with them)', () => {
    const gate = new ConcurrencyGate({ clock, limit: 1 });
    const a = gate.admit({ [Symbol('mark')]: true } as AdmissionContext) as Admission;
    expect(a.ok).toBe(true);
  });
});
