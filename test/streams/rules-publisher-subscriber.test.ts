// The Reactive Streams rules as docs/streams.md adapts them, one test per rule, named by its number: §1 and §2.
import { describe, expect, it } from 'vitest';
import { StreamRuleError } from '../../src/core/index.js';
import { forEach, fromArray, fromAsyncIterable, fromIterable, map, pipe, publisher, take, toArray, toAsyncIterator, UNBOUNDED } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';
import { capture, kinds, scripted } from './sources.js';
import { fakeSubscription, spyRequests } from './spies.js';

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

