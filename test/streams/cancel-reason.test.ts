// Why a WHATWG ReadableStream was cancelled: before, fromReadableStream called reader.cancel()
// with no reason, so the producer's cancel(reason) saw undefined whether the subscriber had
// simply cancelled, thrown in onNext, broken §3.9 or a map downstream had failed.
import { describe, expect, it } from 'vitest';
import { StreamRuleError } from '../../src/core/index.js';
import { forEach, fromReadableStream, map, pipe, publisher } from '../../src/streams/index.js';
import type { Subscription } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';

/** A never-ending stream of numbers that records the reason its cancel was given. */
function producer(): { rs: ReadableStream<number>; reasons: unknown[] } {
  const reasons: unknown[] = [];
  let n = 0;
  const rs = new ReadableStream<number>({ pull: (c) => c.enqueue(n++), cancel: (r) => void reasons.push(r) }, { highWaterMark: 0 });
  return { rs, reasons };
}

describe('fromReadableStream tells the producer why it was cancelled', () => {
  it('a plain cancel() is a DOMException named AbortError', async () => {
    const { rs, reasons } = producer();
    const p = new Probe<number>({ initial: 2 });
    fromReadableStream(rs).subscribe(p);
    await settle(5);
    p.subscription!.cancel();
    await settle();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(DOMException);
    expect((reasons[0] as DOMException).name).toBe('AbortError');
    expect((reasons[0] as DOMException).message).toMatch(/the subscriber cancelled its subscription/);
  });

  it('cancel(reason) hands that reason on', async () => {
    const { rs, reasons } = producer();
    const p = new Probe<number>({ initial: 1 });
    fromReadableStream(rs).subscribe(p);
    await settle(5);
    const why = new Error('client went away');
    p.subscription!.cancel(why);
    await settle();
    expect(reasons).toEqual([why]);
  });

  it('a subscriber whose onNext throws: the §2.13 error it receives, its cause what it threw', async () => {
    const { rs, reasons } = producer();
    const thrown = new Error('bad row');
    const p = new Probe<number>({ initial: 5, onNext: () => { throw thrown; } });
    fromReadableStream(rs).subscribe(p);
    await settle(5);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(StreamRuleError);
    expect((reasons[0] as StreamRuleError).rule).toBe('2.13');
    expect((reasons[0] as Error).cause).toBe(thrown);
    expect(p.error).toBe(reasons[0]);
  });

  it('request(0): the §3.9 error the subscriber receives', async () => {
    const { rs, reasons } = producer();
    const p = new Probe<number>({ initial: 1 });
    fromReadableStream(rs).subscribe(p);
    await settle(5);
    p.subscription!.request(0);
    await settle();
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as StreamRuleError).rule).toBe('3.9');
    expect(p.error).toBe(reasons[0]);
  });

  it('a map downstream that throws: what it threw, through the stages', async () => {
    const { rs, reasons } = producer();
    const boom = new Error('map failed');
    const out = forEach(pipe(fromReadableStream(rs), map((x: number) => { if (x === 3) throw boom; return x; })), () => undefined);
    await expect(out).rejects.toBe(boom);
    await settle();
    expect(reasons).toEqual([boom]);
  });

  it("a hand-written source's emitter.signal aborts with the same reason", async () => {
    let signal: AbortSignal | undefined;
    let sub: Subscription | undefined;
    publisher<number>(() => ({ pull: (e) => void (signal = e.signal) })).subscribe({ onSubscribe: (s) => (sub = s, s.request(1)), onNext() {}, onError() {}, onComplete() {} });
    const why = new Error('shutting down');
    sub!.cancel(why);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(why);
  });
});
