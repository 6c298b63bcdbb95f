// The Reactive Streams rules as docs/streams.md adapts them, one test per rule, named by its number: §3 and §4.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { StreamRuleError } from '../../src/core/index.js';
import { fromArray, fromAsyncIterable, fromIterable, map, pipe, UNBOUNDED } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';
import { capture, kinds, scripted } from './sources.js';
import { fakeSubscription } from './spies.js';

describe('§3 Subscription', () => {
  it('§3.1 request and cancel may be called from any callback of the subscriber (a later turn)', async () => {
    const p = new Probe<number>();
    fromArray([1, 2, 3]).subscribe(p);
    await new Promise<void>((r) => setImmediate(() => (p.request(2), r())));
    expect(p.items).toEqual([1, 2]);
    await new Promise<void>((r) => setImmediate(() => (p.subscription!.cancel(), r())));
    p.request(1);
    expect(p.items).toEqual([1, 2]);
  });

  it('§3.2 request may be called synchronously from onSubscribe and onNext', () => {
    const p = new Probe<number>({ onSubscribe: (s) => s.request(1), onNext: (_x, s) => s.request(1) });
    p.requested = UNBOUNDED; // the probe's own count is bypassed by calling the subscription directly
    fromArray([1, 2, 3]).subscribe(p);
    expect(p.items).toEqual([1, 2, 3]);
    expect(p.completed).toBe(true);
  });

  it('§3.3 request from inside onNext does not recurse: a million synchronous items, request(1) each', () => {
    let n = 0;
    let depth = 0;
    let maxDepth = 0;
    const p = new Probe<number>({
      initial: 1,
      onNext: (_x, _s, probe) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        n++;
        probe.request(1);
        depth--;
      },
    });
    fromIterable(
      (function* () {
        for (let i = 0; i < 1_000_000; i++) yield i;
      })(),
    ).subscribe(p);
    expect(n).toBe(1_000_000);
    expect(maxDepth).toBe(1);
    expect(p.completed).toBe(true);
  });

  it('§3.4 request returns at once; an async source delivers later', async () => {
    const p = new Probe<number>();
    kinds[2]!.make(3).subscribe(p);
    p.request(4); // the fourth read finds the end: an async iterable cannot be asked "is there more?" without reading
    expect(p.items).toEqual([]);
    await p.done;
    expect(p.items).toEqual([0, 1, 2]);
  });

  it('§3.5 cancel is idempotent and returns at once, even with a pull in progress (its late item is dropped)', async () => {
    let finish!: () => void;
    const { source, pub } = scripted<number>((s) => (s.onPull = (e) => new Promise<void>((r) => (finish = () => (e.next(1), r())))));
    const p = new Probe<number>({ initial: 1 });
    pub.subscribe(p);
    p.subscription!.cancel();
    p.subscription!.cancel();
    finish();
    await settle();
    expect(source.cancels).toBe(1);
    expect(p.items).toEqual([]);
  });

  it('§3.6 after cancel, request is a no-op', () => {
    const { source, pub } = scripted<number>((s) => (s.onPull = (e) => void e.next(1)));
    const p = new Probe<number>();
    pub.subscribe(p);
    p.subscription!.cancel();
    p.request(5);
    p.subscription!.request(-1); // not even a §3.9 error
    expect(source.pulls).toBe(0);
    expect(p.signals).toEqual([{ type: 'subscribe' }]);
  });

  it('§3.7 after cancel, cancel is a no-op', () => {
    const { source, pub } = scripted<number>();
    const p = new Probe<number>();
    pub.subscribe(p);
    for (let i = 0; i < 3; i++) p.subscription!.cancel();
    expect(source.cancels).toBe(1);
  });

  it('§3.8 request adds demand', () => {
    const p = new Probe<number>();
    fromArray([1, 2, 3, 4, 5, 6]).subscribe(p);
    p.request(2);
    p.request(2);
    expect(p.items).toEqual([1, 2, 3, 4]);
  });

  it('§3.9 request(0), request(-1), request(NaN), request(1.5) and request("1") signal onError naming the rule', () => {
    for (const n of [0, -1, NaN, 1.5, '1', undefined]) {
      const { source, pub } = scripted<number>();
      const p = new Probe<number>();
      pub.subscribe(p);
      p.subscription!.request(n as number);
      expect(p.error).toBeInstanceOf(StreamRuleError);
      expect((p.error as StreamRuleError).message).toMatch(/^§3\.9 request\(n\): expected a positive integer/);
      expect(source.cancels).toBe(1);
    }
  });

  it('§3.10 request may call onNext synchronously', () => {
    const p = new Probe<number>();
    fromArray([1, 2]).subscribe(p);
    p.request(1);
    expect(p.items).toEqual([1]);
  });

  it('§3.11 request may call onComplete synchronously', () => {
    const p = new Probe<number>();
    fromArray([1]).subscribe(p);
    p.request(1);
    expect(p.completed).toBe(true);
  });

  it('§3.12 cancel stops the signals of a push source', () => {
    const { source, pub } = scripted<number>();
    const p = new Probe<number>({ initial: 10 });
    pub.subscribe(p);
    source.emitter!.next(1);
    p.subscription!.cancel();
    expect(source.emitter!.next(2)).toBe(false);
    source.emitter!.error(new Error('late'));
    expect(p.items).toEqual([1]);
    expect(p.signals).toHaveLength(2);
    expect(source.emitter!.signal.aborted).toBe(true);
  });

  it('§3.13 cancel drops the reference to the subscriber', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const { source, pub } = scripted<number>();
    let p: Probe<number> | undefined = new Probe<number>({ initial: 1 });
    const ref = new WeakRef(p);
    pub.subscribe(p);
    p.subscription!.cancel();
    p = undefined;
    await settle();
    gc();
    expect(ref.deref()).toBeUndefined();
    expect(source.emitter).toBeDefined(); // the emission itself is still held by its source
  });

  it('§3.14 cancel shuts a stateful source down: an async generator runs its finally', async () => {
    let closed = false;
    async function* gen(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const p = new Probe<number>({ initial: 2 });
    fromAsyncIterable(gen()).subscribe(p);
    await settle(3);
    p.subscription!.cancel();
    await settle(3);
    expect(closed).toBe(true);
    expect(p.items).toEqual([0, 1]);
  });

  it('§3.15 cancel returns normally even when the source fails to cancel (reported as a warning)', async () => {
    const warn = vi.fn();
    process.on('warning', warn);
    const { pub } = scripted<number>((s) => (s.onCancel = () => { throw new Error('cannot close'); }));
    const p = new Probe<number>();
    pub.subscribe(p);
    expect(() => p.subscription!.cancel()).not.toThrow();
    await settle();
    process.off('warning', warn);
    expect(warn.mock.calls.some(([w]) => String((w as Error).message).includes('cannot close'))).toBe(true);
  });

  it('§3.16 request returns normally even when the source throws; the error reaches onError', () => {
    const boom = new Error('pull failed');
    const { pub } = scripted<number>((s) => (s.onPull = () => { throw boom; }));
    const p = new Probe<number>();
    pub.subscribe(p);
    expect(() => p.request(1)).not.toThrow();
    expect(p.error).toBe(boom);
  });

  it('§3.17 demand adds up to MAX_SAFE_INTEGER and stays there (unbounded): it is not decremented', () => {
    const { source, pub } = scripted<number>();
    const p = new Probe<number>();
    pub.subscribe(p);
    p.request(UNBOUNDED - 1);
    p.request(UNBOUNDED);
    expect(source.emitter!.demand).toBe(UNBOUNDED);
    for (let i = 0; i < 3; i++) source.emitter!.next(i);
    expect(source.emitter!.demand).toBe(UNBOUNDED);
    p.request(Infinity);
    expect(source.emitter!.demand).toBe(UNBOUNDED);
    expect(p.error).toBeUndefined();
  });
});

describe('§4 Processor (operators)', () => {
  it('§4.1 a stage obeys both contracts: demand-bounded downstream, a second upstream subscription cancelled', () => {
    const c = capture<number>();
    const p = new Probe<number>({ initial: 2 });
    pipe(c.pub, map((x: number) => x + 1)).subscribe(p);
    const up = fakeSubscription();
    const second = fakeSubscription();
    c.subscriber().onSubscribe(up);
    c.subscriber().onSubscribe(second);
    expect(up.requests).toEqual([2]);
    expect(second.cancels).toBe(1);
    c.subscriber().onNext(1);
    c.subscriber().onNext(2);
    expect(p.items).toEqual([2, 3]);
    expect(() => c.subscriber().onNext(undefined as never)).toThrow(TypeError);
    expect(p.violations).toEqual([]);
  });

  it('§4.2 a stage that does not recover propagates onError at once, and cancel goes upstream', () => {
    const c = capture<number>();
    const p = new Probe<number>({ initial: 2 });
    pipe(c.pub, map((x: number) => x)).subscribe(p);
    const up = fakeSubscription();
    c.subscriber().onSubscribe(up);
    const boom = new Error('upstream');
    c.subscriber().onError(boom);
    expect(p.error).toBe(boom);
    const q = new Probe<number>({ initial: 1 });
    const d = capture<number>();
    pipe(d.pub, map((x: number) => x)).subscribe(q);
    const up2 = fakeSubscription();
    d.subscriber().onSubscribe(up2);
    q.subscription!.cancel();
    expect(up2.cancels).toBe(1);
  });
});
