// toWritableStream against streams off the common path.
// A WHATWG WritableStream with highWaterMark 0 never has a positive desiredSize, and its
// writer.ready stays pending for ever (the spec's backpressure is desiredSize <= 0). Before,
// toWritableStream waited for that ready: nothing was written and its promise never settled.
// A stream that errs (its controller's error()) while the publisher is idle: before, nothing
// noticed until the next item came, so the promise stayed pending and the source stayed open.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fromArray, fromReadable, map, pipe, toWritableStream } from '../../src/streams/index.js';

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> =>
  Promise.race([p, new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms))]);

describe('toWritableStream to a stream with highWaterMark 0', () => {
  it('writes every item, one at a time, and resolves once the stream is closed', async () => {
    const got: number[] = [];
    let inWrite = 0;
    let most = 0;
    let closed = false;
    const ws = new WritableStream<number>(
      {
        async write(x) {
          most = Math.max(most, ++inWrite);
          await new Promise((r) => setTimeout(r, 1));
          got.push(x);
          inWrite--;
        },
        close() {
          closed = true;
        },
      },
      { highWaterMark: 0 },
    );
    let pulled = 0;
    const src = pipe(
      fromArray([1, 2, 3, 4, 5]),
      map((x: number) => (pulled++, x)),
    );
    const done = toWritableStream(src, ws);
    // Every item is asked for only once the one before it has been written: nothing queues in the stream.
    await new Promise((r) => setTimeout(r, 0));
    expect(pulled).toBe(1);
    expect(await within(done, 10_000)).toBeUndefined();
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(1);
    expect(closed).toBe(true);
  });

  it('an empty publisher closes it', async () => {
    let closed = false;
    const ws = new WritableStream<number>({ close: () => void (closed = true) }, { highWaterMark: 0 });
    expect(await within(toWritableStream(fromArray([]), ws), 10_000)).toBeUndefined();
    expect(closed).toBe(true);
  });
});

describe('toWritableStream to a stream that errs while the publisher has nothing to give', () => {
  it('rejects with the stream’s error and cancels the publisher at once (a Readable behind it is destroyed)', async () => {
    const r = new Readable({ read() {} }); // a socket with nothing to say yet
    let controller: WritableStreamDefaultController | undefined;
    const ws = new WritableStream<Buffer>({ start: (c) => void (controller = c) }, { highWaterMark: 4 });
    const done = toWritableStream(fromReadable(r), ws);
    await new Promise((res) => setTimeout(res, 10));
    const gone = new Error('the disk went away');
    controller!.error(gone);
    expect(await within(done.catch((e: unknown) => e), 10_000)).toBe(gone);
    expect(r.destroyed).toBe(true);
  });
});
