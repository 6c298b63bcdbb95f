// Operators: each demand-correct (never asks upstream for more than it can pass on or hold), on the virtual clock where time matters.
import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { GateEvent } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { TokenBucket } from '../../src/rate/index.js';
import { RetryPolicy } from '../../src/retry/index.js';
import type { Publisher } from '../../src/streams/index.js';
import { batch, buffer, flatMap, fromArray, map, mapAsync, merge, metered, onBackpressure, pipe, publisher, retry, StageMeter, take, throttle, timeout, toArray } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';
import { scripted } from './sources.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A source of 0..n-1 recording the demand it is asked for. */
function counting(n: number): { pub: Publisher<number>; asked: () => number } {
  let asked = 0;
  const { pub } = scripted<number>((s) => {
    let i = 0;
    s.onPull = (e) => {
      while (e.demand > 0 && i < n) {
        asked++;
        e.next(i++);
      }
      if (i === n) e.complete();
    };
  });
  return { pub, asked: () => asked };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('mapAsync', () => {
  it('keeps at most `concurrency` calls running and emits in order (ordered)', async () => {
    const calls: { x: number; d: ReturnType<typeof deferred<number>> }[] = [];
    const src = counting(10);
    const p = new Probe<number>({ initial: 100 });
    pipe(src.pub, mapAsync((x: number) => {
      const d = deferred<number>();
      calls.push({ x, d });
      return d.promise;
    }, { concurrency: 3 })).subscribe(p);
    await settle();
    expect(calls.map((c) => c.x)).toEqual([0, 1, 2]);
    expect(src.asked()).toBe(3);
    calls[2]!.d.resolve(20); // finished out of order: held until 0 and 1 are done
    await settle();
    expect(p.items).toEqual([]);
    expect(src.asked()).toBe(3); // the finished result still counts against the bound
    calls[0]!.d.resolve(0);
    calls[1]!.d.resolve(10);
    await settle(2);
    expect(p.items).toEqual([0, 10, 20]);
    for (let i = 3; i < 10; i++) {
      await settle();
      calls[i]!.d.resolve(i * 10);
    }
    await p.done;
    expect(p.items).toEqual(range(10).map((x) => x * 10));
  });

  it('unordered emits as calls finish; never asks past downstream demand plus the bound', async () => {
    const calls: ReturnType<typeof deferred<number>>[] = [];
    const src = counting(10);
    const p = new Probe<number>({ initial: 2 });
    pipe(src.pub, mapAsync(() => {
      const d = deferred<number>();
      calls.push(d);
      return d.promise;
    }, { concurrency: 4, ordered: false })).subscribe(p);
    await settle();
    expect(calls).toHaveLength(4);
    calls[3]!.resolve(3);
    calls[1]!.resolve(1);
    calls[2]!.resolve(2);
    await settle();
    expect(p.items).toEqual([3, 1]); // demand 2
    expect(src.asked()).toBeLessThanOrEqual(4 + 1);
    expect(p.violations).toEqual([]);
  });

  it('a rejected call fails the stream and cancels upstream; a bad option is an option error', async () => {
    await expect(toArray(pipe(fromArray([1, 2, 3]), mapAsync(async (x: number) => {
      if (x === 2) throw new Error('bad item');
      return x;
    })))).rejects.toThrow('bad item');
    expect(() => mapAsync((x: number) => x, { concurrency: 0 })).toThrow(/concurrency: expected an integer >= 1, received 0/);
    expect(() => mapAsync(null as never)).toThrow(InvalidOptionError);
  });
});

describe('flatMap / merge', () => {
  it('subscribes at most `concurrency` inner streams at once and bounds each by prefetch', async () => {
    let active = 0;
    let peak = 0;
    const inner = (x: number): Publisher<number> =>
      publisher(() => {
        let i = 0;
        active++;
        peak = Math.max(peak, active);
        return {
          pull: async (e) => {
            await Promise.resolve();
            while (e.demand > 0 && i < 3) e.next(x * 10 + i++);
            if (i === 3) {
              active--;
              e.complete();
            }
          },
        };
      });
    const out = await toArray(pipe(fromArray(range(8)), flatMap(inner, { concurrency: 2, prefetch: 2 })), { batch: 4 });
    expect(out.sort((a, b) => a - b)).toEqual(range(8).flatMap((x) => [x * 10, x * 10 + 1, x * 10 + 2]));
    expect(peak).toBe(2);
  });

  it('ordered emits inner streams whole, in order', async () => {
    const out = await toArray(pipe(fromArray([3, 1, 2]), flatMap((x: number) => fromArray(range(x).map(() => x)), { ordered: true, concurrency: 3 })));
    expect(out).toEqual([3, 3, 3, 1, 2, 2]);
  });

  it('merge: every item of every publisher, an inner error fails the whole', async () => {
    const out = await toArray(merge([fromArray([1, 2]), fromArray([3]), fromArray([4, 5, 6])], { concurrency: 2 }));
    expect(out.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const failing = publisher<number>(() => ({ pull: (e) => e.error(new Error('inner broke')) }));
    await expect(toArray(merge([fromArray([1]), failing]))).rejects.toThrow('inner broke');
  });
});

describe('buffer', () => {
  it("'block' prefetches at most capacity from upstream and loses nothing", async () => {
    const src = counting(100);
    const p = new Probe<number>({ initial: 1 });
    pipe(src.pub, buffer(8)).subscribe(p);
    expect(p.items).toEqual([0]);
    expect(src.asked()).toBeLessThanOrEqual(1 + 8);
    p.request(1000);
    await p.done;
    expect(p.items).toEqual(range(100));
  });

  it("drop policies run upstream freely and count every drop in the channel's stats, onDrop and the meter", () => {
    const dropped: number[] = [];
    const meter = new StageMeter('buf');
    let channel: { stats(): { droppedBy: Record<string, number> } } | undefined;
    const p = new Probe<number>({ initial: 1 });
    pipe(fromArray(range(10)), buffer(3, 'drop-oldest', { onDrop: (x) => dropped.push(x), meter, onChannel: (c) => (channel = c) })).subscribe(p);
    expect(p.items).toEqual([0]);
    expect(dropped).toEqual([1, 2, 3, 4, 5, 6]);
    p.request(10);
    expect(p.items).toEqual([0, 7, 8, 9]);
    expect(channel!.stats().droppedBy['drop-oldest']).toBe(6);
    expect(meter.stats().droppedBy['drop-oldest']).toBe(6);
    expect(p.completed).toBe(true);
  });

  it("'error' fails the stream with queue_full when full; bad options use the option template", () => {
    const p = new Probe<number>({ initial: 1 });
    pipe(fromArray(range(10)), buffer(2, 'error')).subscribe(p);
    expect(p.error).toBeInstanceOf(RejectedError);
    expect(() => buffer(0)).toThrow(/buffer\(capacity\): expected an integer in \[1, 9007199254740991\], received 0/);
    expect(() => buffer(1, 'sometimes' as never)).toThrow(InvalidOptionError);
  });
});

describe('onBackpressure', () => {
  it("'latest' keeps the newest item for a slow subscriber; 'drop' drops the arrivals", () => {
    const p = new Probe<number>({ initial: 1 });
    pipe(fromArray(range(10)), onBackpressure('latest')).subscribe(p);
    p.request(5);
    expect(p.items).toEqual([0, 9]);
    const q = new Probe<number>({ initial: 1 });
    pipe(fromArray(range(10)), onBackpressure('drop', { capacity: 2 })).subscribe(q);
    q.request(5);
    expect(q.items).toEqual([0, 1, 2]);
    expect(() => onBackpressure('wait' as never)).toThrow(InvalidOptionError);
  });
});

describe('batch', () => {
  it('groups by size, emits a partial batch after maxWaitMs on the virtual clock, and the rest on completion', async () => {
    const clock = new VirtualClock();
    const { source, pub } = scripted<number>();
    const p = new Probe<number[]>({ initial: 10 });
    pipe(pub, batch(3, 100, { clock })).subscribe(p);
    const e = source.emitter!;
    expect(e.demand).toBe(30); // 10 batches of 3
    for (const x of [1, 2, 3, 4]) e.next(x);
    expect(p.items).toEqual([[1, 2, 3]]);
    clock.advance(99);
    expect(p.items).toHaveLength(1);
    clock.advance(1);
    expect(p.items).toEqual([[1, 2, 3], [4]]);
    e.next(5);
    e.complete();
    expect(p.items).toEqual([[1, 2, 3], [4], [5]]);
    expect(p.completed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a due batch waits for demand and holds back upstream meanwhile', () => {
    const clock = new VirtualClock();
    const { source, pub } = scripted<number>();
    const p = new Probe<number[]>({ initial: 1 });
    pipe(pub, batch(2, 50, { clock })).subscribe(p);
    const e = source.emitter!;
    e.next(1);
    e.next(2);
    expect(p.items).toEqual([[1, 2]]);
    expect(e.demand).toBe(0);
    p.request(1);
    expect(e.demand).toBe(2);
    expect(() => batch(0)).toThrow(InvalidOptionError);
  });
});

describe('throttle', () => {
  it('through a token bucket: a refusal is a wait on the gate clock, nothing is lost', async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket({ rate: 10, perMs: 1000, burst: 2, clock });
    const p = new Probe<number>({ initial: 100 });
    pipe(fromArray(range(6)), throttle(bucket)).subscribe(p);
    await settle();
    expect(p.items).toEqual([0, 1]);
    await clock.tick(100);
    expect(p.items).toEqual([0, 1, 2]);
    await clock.tick(300);
    await p.done;
    expect(p.items).toEqual(range(6));
    expect(bucket.stats().rejected.rate_limited).toBeGreaterThan(0);
  });

  it('through a concurrency gate: the permit is held while the item is delivered and released after', async () => {
    const gate = new ConcurrencyGate({ limit: 1 });
    const inFlight: number[] = [];
    const out: number[] = [];
    const p = new Probe<number>({
      initial: 10,
      onNext: (x) => {
        inFlight.push(gate.stats().inFlight);
        out.push(x);
      },
    });
    pipe(fromArray([1, 2, 3]), throttle(gate)).subscribe(p);
    await p.done;
    expect(out).toEqual([1, 2, 3]);
    expect(inFlight).toEqual([1, 1, 1]);
    expect(gate.stats().inFlight).toBe(0);
  });

  it('a refusal that retrying cannot help (Infinity) fails the stream instead of hanging', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock: new VirtualClock() });
    const p = new Probe<number>({ initial: 1 });
    pipe(fromArray([1]), throttle(bucket, { context: () => ({ cost: 5 }) })).subscribe(p);
    await p.done;
    expect(p.error).toBeInstanceOf(RejectedError);
  });
});

describe('timeout', () => {
  it('fails after ms of outstanding demand without an item, on the virtual clock; never without demand', async () => {
    const clock = new VirtualClock();
    const { source, pub } = scripted<number>();
    const p = new Probe<number>();
    pipe(pub, timeout(100, { clock })).subscribe(p);
    clock.advance(1000);
    expect(p.error).toBeUndefined(); // nobody asked
    p.request(2);
    clock.advance(60);
    source.emitter!.next(1);
    clock.advance(60);
    expect(p.error).toBeUndefined();
    clock.advance(40);
    expect((p.error as DOMException).name).toBe('TimeoutError');
    expect(source.cancels).toBe(1);
  });
});

describe('retry', () => {
  it('re-subscribes after a failure as the policy says, carrying demand over; gives up with the last error', async () => {
    let subscriptions = 0;
    const flaky = publisher<number>(() => {
      const attempt = ++subscriptions;
      let i = 0;
      return {
        pull: (e) => {
          while (e.demand > 0 && i < 3) e.next(attempt * 10 + i++);
          if (attempt < 3) e.error(new Error(`attempt ${attempt} failed`));
          else e.complete();
        },
      };
    });
    const policy = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0 });
    const out = await toArray(pipe(flaky, retry(policy)));
    expect(out).toEqual([10, 11, 12, 20, 21, 22, 30, 31, 32]);
    subscriptions = 0;
    await expect(toArray(pipe(flaky, retry(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }))))).rejects.toThrow('attempt 2 failed');
    expect(() => retry({} as never)).toThrow(InvalidArgumentError);
  });

  it('cancel stops the retries', async () => {
    const clock = new VirtualClock();
    let subscriptions = 0;
    const failing = publisher<number>(() => (subscriptions++, { pull: (e) => e.error(new Error('down')) }));
    const p = new Probe<number>({ initial: 1 });
    pipe(failing, retry(new RetryPolicy({ maxAttempts: 10, baseDelayMs: 100, jitter: 'none', clock }))).subscribe(p);
    await settle();
    expect(subscriptions).toBe(1);
    p.subscription!.cancel();
    await clock.tick(10_000);
    expect(subscriptions).toBe(1);
    expect(p.error).toBeUndefined();
  });
});

describe('observability', () => {
  it('a stage meter reports items, demand and latency through gate events and diagnostics_channel', async () => {
    const clock = new VirtualClock();
    const meter = new StageMeter('resize', clock);
    const events: string[] = [];
    meter.on((e: GateEvent) => events.push(`${e.type}:${e.kind}`));
    const onAdmit = (m: unknown): void => void events.push(`dc:${(m as GateEvent).gate}`);
    diagnostics.subscribe('sluice:admit', onAdmit);
    try {
      const out = await toArray(pipe(fromArray([1, 2]), mapAsync(async (x: number) => x, { meter }), map((x: number) => x), metered(new StageMeter('after'))));
      expect(out).toEqual([1, 2]);
    } finally {
      diagnostics.unsubscribe('sluice:admit', onAdmit);
    }
    expect(events.filter((e) => e === 'release:stream')).toHaveLength(2);
    expect(events.filter((e) => e === 'admit:stream')).toHaveLength(2);
    expect(events).toContain('dc:after');
    const s = meter.stats();
    expect(s.items).toBe(2);
    expect(s.kind).toBe('stream');
    expect(s.limit).toBe(1);
  });

  it('take stops asking once it has enough', async () => {
    const src = counting(1000);
    expect(await toArray(pipe(src.pub, take(5)), { batch: 100 })).toEqual(range(5));
    expect(src.asked()).toBe(5);
  });
});
