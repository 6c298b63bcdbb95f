// The Reactive Streams rules as docs/streams.md adapts them, one test per rule, named by its number.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { StreamRuleError } from '../../src/core/index.js';
import type { Publisher, Subscription } from '../../src/streams/index.js';
import { forEach, fromArray, fromAsyncIterable, fromIterable, map, pipe, publisher, take, toArray, toAsyncIterator, UNBOUNDED } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';
import { capture, kinds, scripted } from './sources.js';

/** Wrap a publisher, recording the subscriber's calls on its subscription and the items it gets (runs of items as one 'next'). */
function spyRequests<T>(inner: Publisher<T>): { pub: Publisher<T>; calls: string[] } {
  const calls: string[] = [];
  const pub: Publisher<T> = {
    subscribe: (sub) =>
      inner.subscribe({
        onSubscribe: (s) =>
          sub.onSubscribe({
            request: (n) => (calls.push(`request ${n}`), s.request(n)),
            cancel: () => (calls.push('cancel'), s.cancel()),
          }),
        onNext: (x) => {
          if (calls.at(-1) !== 'next') calls.push('next');
          sub.onNext(x);
        },
        onError: (e) => sub.onError(e),
        onComplete: () => sub.onComplete(),
      }),
  };
  return { pub, calls };
}

function fakeSubscription(): Subscription & { requests: number[]; cancels: number } {
  const s = { requests: [] as number[], cancels: 0, request: (n: number) => void s.requests.push(n), cancel: () => void s.cancels++ };
  return s;
}

describe('§1 Publisher', () => {
  describe.each(kinds)('$name', (kind) => {
    it('§1.1 never signals more onNext than requested', async () => {
      const p = new Probe<number>({ initial: 3 });
      kind.make(10).subscribe(p);
      await settle(3);
      expect(p.items).toEqual([0, 1, 2]);
      p.request(2);
      await settle(3);
      expect(p.items).toEqual([0, 1, 2, 3, 4]);
      expect(p.violations).toEqual([]);
    });

    it('§1.2 may signal fewer onNext than requested and then complete', async () => {
      const p = new Probe<number>({ initial: 100 });
      kind.make(5).subscribe(p);
      await p.done;
      expect(p.items).toEqual([0, 1, 2, 3, 4]);
      expect(p.completed).toBe(true);
    });

    it('§1.3 signals serially, even when the subscriber requests from inside onNext', async () => {
      const p = new Probe<number>({ initial: 1, onNext: (_x, _s, probe) => probe.request(1) });
      kind.make(50).subscribe(p);
      await p.done;
      expect(p.items).toHaveLength(50);
      expect(p.violations).toEqual([]);
    });

    it('§1.7 sends nothing after a terminal signal', async () => {
      const p = new Probe<number>({ initial: 10, onNext: (_x, _s, probe) => probe.request(1) });
      kind.make(3).subscribe(p);
      await p.done;
      p.subscription!.request(5);
      await settle(2);
      expect(p.signals.at(-1)).toEqual({ type: 'complete' });
      expect(p.violations).toEqual([]);
    });

    it('§3.9 request(n <= 0) signals onError naming the rule (and stops the source)', async () => {
      const p = new Probe<number>({ initial: 1 });
      kind.make(10).subscribe(p);
      await settle(2);
      p.subscription!.request(0);
      await settle(2);
      expect(p.error).toBeInstanceOf(StreamRuleError);
      expect((p.error as StreamRuleError).rule).toBe('3.9');
      expect(p.items).toEqual([0]);
      expect(p.violations).toEqual([]);
    });

    it('§3.17 demand saturates at MAX_SAFE_INTEGER and counts as unbounded', async () => {
      const p = new Probe<number>({ initial: UNBOUNDED });
      kind.make(20).subscribe(p);
      p.request(UNBOUNDED);
      await p.done;
      expect(p.items).toHaveLength(20);
      expect(p.violations).toEqual([]);
    });
  });

  it('§1.4 a failing source signals onError', async () => {
    const boom = new Error('boom');
    const { pub } = scripted<number>((s) => (s.onPull = () => Promise.reject(boom)));
    const p = new Probe<number>({ initial: 1 });
    pub.subscribe(p);
    await p.done;
    expect(p.error).toBe(boom);
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw boom;
    }
    await expect(toArray(fromAsyncIterable(failing()))).rejects.toBe(boom);
  });

  it('§1.5 a finite source signals onComplete after its last item', async () => {
    const p = new Probe<number>({ initial: 5 });
    fromArray([1, 2]).subscribe(p);
    expect(p.signals.map((s) => s.type)).toEqual(['subscribe', 'next', 'next', 'complete']);
  });

  it('§1.6 after onComplete the subscription is considered cancelled: the source is not asked again', async () => {
    const { source, pub } = scripted<number>((s) => (s.onPull = (e) => (e.next(1), e.complete())));
    const p = new Probe<number>({ initial: 5 });
    pub.subscribe(p);
    p.subscription!.request(3);
    p.subscription!.cancel();
    expect(source.pulls).toBe(1);
    expect(source.cancels).toBe(0);
    expect(source.emitter!.cancelled).toBe(true);
  });

  it('§1.8 once cancelled, the subscriber stops being signalled', async () => {
    const p = new Probe<number>({ initial: 10, onNext: (x, s) => x === 2 && s.cancel() });
    fromArray([0, 1, 2, 3, 4, 5]).subscribe(p);
    const a = new Probe<number>({ initial: 10 });
    const { source, pub } = scripted<number>();
    pub.subscribe(a);
    a.subscription!.cancel();
    expect(source.emitter!.next(1)).toBe(false);
    source.emitter!.complete();
    expect(p.items).toEqual([0, 1, 2]);
    expect(a.signals).toEqual([{ type: 'subscribe' }]);
  });

  it('§1.9 onSubscribe comes first; subscribe(null) and a non-subscriber throw TypeError; a failed start reaches onError', () => {
    expect(() => fromArray([1]).subscribe(null as never)).toThrow(TypeError);
    expect(() => fromArray([1]).subscribe({ onNext() {} } as never)).toThrow(/§1\.9/);
    const boom = new Error('cannot open');
    const p = new Probe<number>({ initial: 1 });
    publisher<number>(() => {
      throw boom;
    }).subscribe(p);
    expect(p.signals).toEqual([{ type: 'subscribe' }, { type: 'error', error: boom }]);
  });

  it('§1.9/§2.5 a second subscription to a single-subscriber publisher is refused with onError', async () => {
    const once = fromIterable([1, 2, 3].values());
    const first = new Probe<number>({ initial: 10 });
    const second = new Probe<number>({ initial: 10 });
    once.subscribe(first);
    once.subscribe(second);
    expect(first.items).toEqual([1, 2, 3]);
    expect(second.signals[0]).toEqual({ type: 'subscribe' });
    expect(second.error).toBeInstanceOf(StreamRuleError);
    expect((second.error as StreamRuleError).rule).toBe('1.9');
    expect(second.violations).toEqual([]);
  });

  it('§1.10 subscribe may be called many times, with a different subscriber each time', () => {
    const pub = fromArray([1, 2, 3]);
    const a = new Probe<number>({ initial: 1 });
    const b = new Probe<number>({ initial: 3 });
    pub.subscribe(a);
    pub.subscribe(b);
    expect(a.items).toEqual([1]);
    expect(b.items).toEqual([1, 2, 3]);
  });

  it('§1.11 each subscription of a cold publisher is its own (unicast), at its own pace', () => {
    const pub = pipe(fromArray([1, 2, 3]), map((x: number) => x * 10));
    const a = new Probe<number>({ initial: 2 });
    const b = new Probe<number>({ initial: 1 });
    pub.subscribe(a);
    pub.subscribe(b);
    b.request(2);
    expect(a.items).toEqual([10, 20]);
    expect(b.items).toEqual([10, 20, 30]);
    expect(b.completed && !a.completed).toBe(true);
  });
});

describe('§2 Subscriber (the sluice sinks)', () => {
  it('§2.1 a sink signals demand before it receives, in its batch size', async () => {
    const spy = spyRequests(fromArray(Array.from({ length: 40 }, (_, i) => i)));
    const seen: number[] = [];
    await forEach(spy.pub, (x) => void seen.push(x), { batch: 16 });
    expect(seen).toHaveLength(40);
    expect(spy.calls).toEqual(['request 16', 'next', 'request 16', 'next', 'request 16', 'next']);
  });

  it('§2.2 an async callback does not hold up the publisher beyond its concurrency bound', async () => {
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const done = forEach(
      fromArray(Array.from({ length: 10 }, (_, i) => i)),
      () =>
        new Promise<void>((resolve) => {
          running++;
          peak = Math.max(peak, running);
          releases.push(() => {
            running--;
            resolve();
          });
        }),
      { concurrency: 3, batch: 1 },
    );
    for (let i = 0; i < 10; i++) {
      await settle();
      releases.shift()?.();
    }
    while (releases.length > 0) {
      await settle();
      releases.shift()?.();
    }
    await done;
    expect(peak).toBe(3);
  });

  it('§2.3 onComplete: the sink calls nothing on the subscription afterwards', async () => {
    const c = capture<number>();
    const done = forEach(c.pub, () => undefined, { batch: 4 });
    const s = fakeSubscription();
    c.subscriber().onSubscribe(s);
    c.subscriber().onNext(1);
    c.subscriber().onComplete();
    const before = { ...s, requests: [...s.requests] };
    c.subscriber().onNext(2);
    await done;
    expect(s.requests).toEqual(before.requests);
    expect(s.cancels).toBe(0);
  });

  it('§2.4 onError: the sink considers the subscription cancelled and rejects', async () => {
    const c = capture<number>();
    const done = forEach(c.pub, () => undefined);
    const s = fakeSubscription();
    c.subscriber().onSubscribe(s);
    const boom = new Error('upstream failed');
    c.subscriber().onError(boom);
    await expect(done).rejects.toBe(boom);
    expect(s.cancels).toBe(0);
  });

  it('§2.5 a sink given a second subscription while it has one cancels the new one', () => {
    const c = capture<number>();
    void forEach(c.pub, () => undefined).catch(() => undefined);
    const first = fakeSubscription();
    const second = fakeSubscription();
    c.subscriber().onSubscribe(first);
    c.subscriber().onSubscribe(second);
    expect(second.cancels).toBe(1);
    expect(second.requests).toEqual([]);
    expect(first.cancels).toBe(0);
  });

  it('§2.6 a sink cancels a subscription it no longer needs (a loop left early, a failing callback, take)', async () => {
    const a = scripted<number>((s) => (s.onPull = (e) => void e.next(1)));
    for await (const _ of toAsyncIterator(a.pub)) break;
    expect(a.source.cancels).toBe(1);
    const b = scripted<number>((s) => (s.onPull = (e) => void e.next(1)));
    await expect(
      forEach(b.pub, () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(b.source.cancels).toBe(1);
    const c = scripted<number>((s) => (s.onPull = (e) => void (e.demand > 0 && e.next(7))));
    expect(await toArray(pipe(c.pub, take(2)))).toEqual([7, 7]);
    expect(c.source.cancels).toBe(1);
  });

  it('§2.7 a sink calls its subscription serially: nothing after cancel, cancel once', async () => {
    const spy = spyRequests(fromArray(Array.from({ length: 100 }, (_, i) => i)));
    let n = 0;
    await expect(
      forEach(spy.pub, () => {
        if (++n === 50) throw new Error('stop');
      }, { batch: 3 }),
    ).rejects.toThrow('stop');
    const cancelAt = spy.calls.indexOf('cancel');
    expect(cancelAt).toBeGreaterThan(0);
    expect(spy.calls.slice(cancelAt + 1).filter((c) => c !== 'next')).toEqual([]);
    expect(spy.calls.filter((c) => c.startsWith('request')).length).toBe(17);
  });

  it('§2.8 a sink accepts items that were in flight when it cancelled', async () => {
    const c = capture<number>();
    const it = toAsyncIterator(c.pub);
    const first = it.next();
    const s = fakeSubscription();
    c.subscriber().onSubscribe(s);
    c.subscriber().onNext(1);
    expect(await first).toEqual({ value: 1, done: false });
    await it.return!();
    expect(() => c.subscriber().onNext(2)).not.toThrow();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(s.cancels).toBe(1);
  });

  it('§2.9 a sink accepts onComplete without any request', async () => {
    expect(await toArray(fromArray([]))).toEqual([]);
    const c = capture<number>();
    const done = forEach(c.pub, () => undefined);
    c.subscriber().onSubscribe(fakeSubscription());
    c.subscriber().onComplete();
    await expect(done).resolves.toBeUndefined();
  });

  it('§2.10 a sink accepts onError without any request', async () => {
    const boom = new Error('at once');
    await expect(toArray(publisher<number>(() => ({ start: (e) => e.error(boom), pull: () => undefined })))).rejects.toBe(boom);
  });

  it('§2.11 a sink sees the items in the order they were signalled', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    expect(await toArray(fromArray(items), { batch: 7 })).toEqual(items);
  });

  it('§2.12 onSubscribe at most once: a repeated onSubscribe is cancelled, not honoured', () => {
    const c = capture<number>();
    void forEach(c.pub, () => undefined).catch(() => undefined);
    const s = fakeSubscription();
    c.subscriber().onSubscribe(s);
    c.subscriber().onSubscribe(s);
    expect(s.requests).toEqual([16]);
    expect(s.cancels).toBe(1);
  });

  it('§2.13 null or missing arguments throw TypeError; a subscriber that throws is cancelled and told', () => {
    const c = capture<number>();
    void forEach(c.pub, () => undefined).catch(() => undefined);
    expect(() => c.subscriber().onSubscribe(null as never)).toThrow(TypeError);
    c.subscriber().onSubscribe(fakeSubscription());
    expect(() => c.subscriber().onNext(undefined as never)).toThrow(/§2\.13 onNext/);
    expect(() => c.subscriber().onError(null)).toThrow(/§2\.13 onError/);
    // A source emitting undefined fails the stream (an item is never null or undefined).
    const bad = scripted<number | undefined>((s) => (s.onPull = (e) => void e.next(undefined)));
    const p = new Probe<number | undefined>({ initial: 1 });
    bad.pub.subscribe(p);
    expect((p.error as StreamRuleError).rule).toBe('2.13');
    expect(bad.source.cancels).toBe(1);
    // A subscriber whose onNext throws: its subscription is cancelled, the publisher is unharmed.
    const { source, pub } = scripted<number>((s) => (s.onPull = (e) => void e.next(1)));
    const thrower = new Probe<number>({
      initial: 5,
      onNext: () => {
        throw new Error('subscriber bug');
      },
    });
    pub.subscribe(thrower);
    expect(source.cancels).toBe(1);
    expect(thrower.error).toBeInstanceOf(StreamRuleError);
    expect(((thrower.error as StreamRuleError).cause as Error).message).toBe('subscriber bug');
    expect(thrower.items).toHaveLength(1);
    const other = new Probe<number>({ initial: 2 });
    fromArray([1, 2]).subscribe(other);
    expect(other.items).toEqual([1, 2]);
  });
});

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
