// Why an operator or sink cancelled its upstream. 5d36f0e gave fromReadableStream, map and
// filter a reason (an AbortError, the caller's reason, or the error); buffer, flatMap, retry,
// timeout, mapAsync and the sinks still cancelled with none — the producer saw a plain
// AbortError ("the subscriber cancelled") whatever had happened: a buffer that overflowed, an
// inner stream that failed, a timed-out attempt, a forEach whose function threw.
import { describe, expect, it } from 'vitest';
import { RejectedError, VirtualClock } from '../../src/core/index.js';
import { RetryPolicy } from '../../src/retry/index.js';
import { buffer, flatMap, forEach, mapAsync, pipe, publisher, retry, timeout, toWritableStream } from '../../src/streams/index.js';
import type { Publisher } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';

/** A never-ending source of numbers (emits while there is demand) that records each cancel's reason. */
function counting(reasons: unknown[], emit = true): Publisher<number> {
  let n = 0;
  return publisher<number>(() => ({
    pull: (e) => {
      while (emit && !e.cancelled && e.demand > 0) e.next(n++);
    },
    cancel: (r) => void reasons.push(r),
  }));
}

const why = new Error('client went away');

describe('buffer', () => {
  it('a downstream cancel(reason) reaches upstream with that reason', () => {
    const reasons: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons), buffer(4)).subscribe(p);
    p.subscription!.cancel(why);
    expect(reasons).toEqual([why]);
  });

  it("overflow 'error': upstream is cancelled with the RejectedError (queue_full) downstream receives", () => {
    const reasons: unknown[] = [];
    const p = new Probe<number>();
    pipe(counting(reasons), buffer(2, 'error')).subscribe(p);
    expect(p.error).toBeInstanceOf(RejectedError);
    expect((p.error as RejectedError).reason).toBe('queue_full');
    expect(reasons).toEqual([p.error]);
  });
});

describe('flatMap', () => {
  it('a downstream cancel(reason) reaches upstream and every inner stream with that reason', () => {
    const outer: unknown[] = [];
    const inner: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(outer), flatMap(() => counting(inner, false), { concurrency: 3 })).subscribe(p);
    expect(outer).toEqual([]);
    p.subscription!.cancel(why);
    expect(outer).toEqual([why]);
    expect(inner).toEqual([why, why, why]);
  });

  it('an inner stream that fails: upstream and the other inner streams are cancelled with its error', () => {
    const outer: unknown[] = [];
    const inner: unknown[] = [];
    const boom = new Error('inner failed');
    let made = 0;
    const p = new Probe<number>({ initial: 1 });
    const fail = publisher<number>(() => ({ start: (e) => e.error(boom), pull() {} }));
    pipe(counting(outer), flatMap(() => (++made === 3 ? fail : counting(inner, false)), { concurrency: 3 })).subscribe(p);
    expect(p.error).toBe(boom);
    expect(outer).toEqual([boom]);
    expect(inner).toEqual([boom, boom]);
  });
});

describe('retry', () => {
  it('a downstream cancel(reason) reaches the attempt’s upstream with that reason', async () => {
    const reasons: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons, false), retry(new RetryPolicy({ maxAttempts: 3 }))).subscribe(p);
    await settle();
    p.subscription!.cancel(why);
    expect(reasons).toEqual([why]);
    await settle();
    expect(p.error).toBeUndefined(); // a cancelled stream is not failed
  });

  it('an attempt past attemptTimeoutMs: its upstream is cancelled with the TimeoutError', async () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons, false), retry(new RetryPolicy({ maxAttempts: 1, attemptTimeoutMs: 50, clock }))).subscribe(p);
    await settle();
    clock.advance(50);
    await settle(3);
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as DOMException).name).toBe('TimeoutError');
    expect(reasons[0]).toBe(p.error);
  });
});

describe('timeout', () => {
  it('upstream is cancelled with the TimeoutError downstream receives', () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons, false), timeout(100, { clock })).subscribe(p);
    clock.advance(100);
    expect((p.error as DOMException).name).toBe('TimeoutError');
    expect(reasons).toEqual([p.error]);
  });

  it('a downstream cancel(reason) reaches upstream with that reason', () => {
    const reasons: unknown[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons, false), timeout(100, { clock: new VirtualClock() })).subscribe(p);
    p.subscription!.cancel(why);
    expect(reasons).toEqual([why]);
  });
});

describe('mapAsync', () => {
  it("fn's signal aborts with the downstream cancel's reason, which upstream gets too", async () => {
    const reasons: unknown[] = [];
    const signals: AbortSignal[] = [];
    const p = new Probe<number>({ initial: 1 });
    pipe(counting(reasons), mapAsync((x: number, signal) => (signals.push(signal), new Promise<number>(() => undefined)), { concurrency: 1 })).subscribe(p);
    await settle();
    expect(signals).toHaveLength(1);
    p.subscription!.cancel(why);
    expect(reasons).toEqual([why]);
    expect(signals[0]!.reason).toBe(why);
  });
});

describe('sinks', () => {
  it('forEach whose function throws: upstream is cancelled with what it threw', async () => {
    const reasons: unknown[] = [];
    const bad = new Error('bad row');
    await expect(forEach(counting(reasons), (x) => { if (x === 2) throw bad; })).rejects.toBe(bad);
    expect(reasons).toEqual([bad]);
  });

  it('toWritableStream whose write fails: upstream is cancelled with the write’s error', async () => {
    const reasons: unknown[] = [];
    const full = new Error('disk full');
    const ws = new WritableStream<number>({ write: (x) => (x === 1 ? Promise.reject(full) : undefined) });
    await expect(toWritableStream(counting(reasons), ws)).rejects.toBe(full);
    expect(reasons).toEqual([full]);
  });
});
