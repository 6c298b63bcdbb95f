// Sources and sinks: Channel, Node Readable/Writable, WHATWG streams, event emitters, for await.
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError, RejectedError } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { forEach, fromArray, fromChannel, fromEvents, fromReadable, fromReadableStream, map, pipe, toArray, toAsyncIterator, toChannel, toWritable, toWritableStream } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('sources', () => {
  it('fromChannel takes only as demand allows; blocked producers stay blocked; completes when closed and drained', async () => {
    const ch = new Channel<number>({ capacity: 2 });
    const producer = (async () => {
      await ch.putMany(range(6));
      ch.close();
    })();
    const p = new Probe<number>({ initial: 1 });
    fromChannel(ch).subscribe(p);
    await settle(3);
    expect(p.items).toEqual([0]);
    expect(ch.stats().blockedPuts).toBe(1);
    p.request(10);
    await p.done;
    await producer;
    expect(p.items).toEqual(range(6));
    expect(p.completed).toBe(true);
  });

  it('fromChannel: cancel aborts a waiting take, so a later item stays in the channel', async () => {
    const ch = new Channel<number>({ capacity: 2 });
    const p = new Probe<number>({ initial: 5 });
    fromChannel(ch).subscribe(p);
    await settle();
    p.subscription!.cancel();
    await settle();
    await ch.put(1);
    expect(ch.stats().waitingTakes).toBe(0);
    expect(ch.tryTake()).toEqual({ ok: true, value: 1 });
  });

  it('fromReadable reads in paused mode as demand allows: the Readable is not drained ahead of demand', async () => {
    let produced = 0;
    const r = new Readable({
      objectMode: true,
      highWaterMark: 4,
      read() {
        if (produced < 100) this.push(produced++);
        else this.push(null);
      },
    });
    const p = new Probe<number>({ initial: 3 });
    fromReadable<number>(r).subscribe(p);
    await settle(5);
    expect(p.items).toEqual([0, 1, 2]);
    expect(produced).toBeLessThanOrEqual(3 + 4 + 1); // what was asked for plus the Readable's own buffer
    p.request(1000);
    await p.done;
    expect(p.items).toEqual(range(100));
  });

  it('fromReadable: an error reaches onError; cancel destroys the stream; one subscriber only', async () => {
    const r = new Readable({ objectMode: true, read() {} });
    const pub = fromReadable<number>(r);
    const p = new Probe<number>({ initial: 1 });
    pub.subscribe(p);
    r.destroy(new Error('disk gone'));
    await p.done;
    expect((p.error as Error).message).toBe('disk gone');
    const second = new Probe<number>();
    pub.subscribe(second);
    expect((second.error as Error).message).toMatch(/§1\.9/);
    const r2 = Readable.from([1, 2, 3]);
    const q = new Probe<number>({ initial: 1 });
    fromReadable<number>(r2).subscribe(q);
    await settle(2);
    q.subscription!.cancel();
    expect(r2.destroyed).toBe(true);
  });

  it('fromReadableStream pulls one read per unit of demand and cancels the stream on cancel', async () => {
    let pulls = 0;
    let cancelled = false;
    const rs = new ReadableStream<number>(
      {
        pull(c) {
          c.enqueue(pulls++);
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const p = new Probe<number>({ initial: 3 });
    fromReadableStream(rs).subscribe(p);
    await settle(5);
    expect(p.items).toEqual([0, 1, 2]);
    expect(pulls).toBeLessThanOrEqual(4);
    p.subscription!.cancel();
    await settle();
    expect(cancelled).toBe(true);
    const done = new ReadableStream<string>({ start: (c) => (c.enqueue('a'), c.enqueue('b'), c.close()) });
    expect(await toArray(fromReadableStream(done))).toEqual(['a', 'b']);
  });

  it('fromEvents requires an overflow strategy, holds at most capacity without demand, and counts drops', async () => {
    const em = new EventEmitter();
    expect(() => fromEvents(em, 'data', undefined as never)).toThrow(/overflow strategy is required/);
    expect(() => fromEvents(em, 'data', { capacity: 2, overflow: 'block' as never })).toThrow(InvalidOptionError);
    const dropped: number[] = [];
    const p = new Probe<number>();
    fromEvents<number>(em, 'data', { capacity: 2, overflow: 'drop-oldest', endEvent: 'end', onDrop: (x) => dropped.push(x) }).subscribe(p);
    for (let i = 0; i < 5; i++) em.emit('data', i);
    expect(dropped).toEqual([0, 1, 2]);
    p.request(1);
    expect(p.items).toEqual([3]);
    em.emit('data', 5); // the buffer is not empty: queued behind 4
    p.request(10);
    expect(p.items).toEqual([3, 4, 5]);
    em.emit('data', 6); // demand outstanding and nothing queued: straight through
    em.emit('end');
    expect(p.items).toEqual([3, 4, 5, 6]);
    expect(p.completed).toBe(true);
    expect(em.listenerCount('data')).toBe(0);
  });

  it("fromEvents with overflow 'error' fails the stream with queue_full; an 'error' event fails it too", () => {
    const em = new EventEmitter();
    const p = new Probe<number>();
    fromEvents<number>(em, 'data', { capacity: 1, overflow: 'error' }).subscribe(p);
    em.emit('data', 1);
    em.emit('data', 2);
    expect(p.error).toBeInstanceOf(RejectedError);
    expect((p.error as RejectedError).reason).toBe('queue_full');
    expect(em.listenerCount('data')).toBe(0);
    const q = new Probe<number>({ initial: 1 });
    fromEvents<number>(em, 'data', { capacity: 1, overflow: 'drop-newest' }).subscribe(q);
    em.emit('error', new Error('socket reset'));
    expect((q.error as Error).message).toBe('socket reset');
  });

  it('fromEvents on an EventTarget', () => {
    const target = new EventTarget();
    const p = new Probe<Event>({ initial: 2 });
    fromEvents<Event>(target, 'tick', { capacity: 4, overflow: 'drop-newest' }).subscribe(p);
    target.dispatchEvent(new Event('tick'));
    expect(p.items).toHaveLength(1);
    p.subscription!.cancel();
    target.dispatchEvent(new Event('tick'));
    expect(p.items).toHaveLength(1);
  });
});

describe('sinks', () => {
  it('toWritable stops requesting while write() answers false and resumes on drain; ends the writable', async () => {
    const written: number[] = [];
    const callbacks: (() => void)[] = [];
    const w = new Writable({
      objectMode: true,
      highWaterMark: 2,
      write(chunk: number, _enc, cb) {
        written.push(chunk);
        callbacks.push(cb); // a slow disk: the callback comes when the test says
      },
    });
    let requested = 0;
    const counted = pipe(
      fromArray(range(20)),
      map((x: number) => {
        requested++;
        return x;
      }),
    );
    const done = toWritable(counted, w, { batch: 4 });
    await settle();
    expect(requested).toBeLessThanOrEqual(4); // write() answered false at 2 buffered: no more demand
    expect(written).toEqual([0]);
    while (written.length < 20 || callbacks.length > 0) {
      callbacks.shift()?.();
      await settle();
    }
    await done;
    expect(written).toEqual(range(20));
    expect(w.writableFinished).toBe(true);
  });

  it('toWritable: an upstream error destroys the writable; a writable error cancels the upstream', async () => {
    const w = new Writable({ objectMode: true, write: (_c, _e, cb) => cb() });
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error('upstream broke');
    }
    const { fromAsyncIterable } = await import('../../src/streams/index.js');
    await expect(toWritable(fromAsyncIterable(failing()), w)).rejects.toThrow('upstream broke');
    expect(w.destroyed).toBe(true);
    let cancelled = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        cancelled = true;
      }
    }
    const bad = new Writable({ objectMode: true, write: (_c, _e, cb) => cb(new Error('EIO')) });
    await expect(toWritable(fromAsyncIterable(endless()), bad)).rejects.toThrow('EIO');
    await settle(3);
    expect(cancelled).toBe(true);
  });

  it('toWritableStream follows desiredSize and closes the stream', async () => {
    const got: number[] = [];
    let resolveWrite: (() => void) | undefined;
    const ws = new WritableStream<number>(
      {
        write: (x) =>
          new Promise<void>((r) => {
            got.push(x);
            resolveWrite = r;
          }),
      },
      new CountQueuingStrategy({ highWaterMark: 2 }),
    );
    let pulled = 0;
    const src = pipe(
      fromArray(range(10)),
      map((x: number) => (pulled++, x)),
    );
    const done = toWritableStream(src, ws);
    await settle(3);
    expect(pulled).toBeLessThanOrEqual(3);
    while (got.length < 10) {
      resolveWrite?.();
      await settle(2);
    }
    resolveWrite?.();
    await done;
    expect(got).toEqual(range(10));
  });

  it('toChannel puts as the channel allows (a full blocking channel holds demand back) and closes it', async () => {
    const ch = new Channel<number>({ capacity: 3 });
    let pulled = 0;
    const done = toChannel(
      pipe(
        fromArray(range(50)),
        map((x: number) => (pulled++, x)),
      ),
      ch,
      { batch: 2 },
    );
    await settle(3);
    expect(pulled).toBeLessThanOrEqual(3 + 2);
    const got: number[] = [];
    for await (const x of ch) got.push(x);
    await done;
    expect(got).toEqual(range(50));
    expect(ch.closed).toBe(true);
  });

  it('toAsyncIterator: for await, at most batch items held, an error thrown after the items before it', async () => {
    const got: number[] = [];
    for await (const x of toAsyncIterator(fromArray(range(10)), { batch: 3 })) got.push(x);
    expect(got).toEqual(range(10));
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('late');
    }
    const { fromAsyncIterable } = await import('../../src/streams/index.js');
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const x of toAsyncIterator(fromAsyncIterable(failing()))) seen.push(x);
      })(),
    ).rejects.toThrow('late');
    expect(seen).toEqual([1, 2]);
  });

  it('forEach rejects option errors with the library template', () => {
    expect(() => forEach(fromArray([1]), () => undefined, { concurrency: 0 })).toThrow(/concurrency: expected an integer >= 1, received 0/);
    expect(() => forEach(fromArray([1]), null as never)).toThrow(InvalidArgumentError);
  });
});
