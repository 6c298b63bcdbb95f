// Node stream bridges handed a stream that is already over: before, a destroyed Readable or
// Writable left the promise pending for ever (its 'close' was past, so no event came), and a
// Writable already ended took the items and resolved as if they had been written.
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fromArray, fromReadable, publisher, toArray, toWritable } from '../../src/streams/index.js';

const settled = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> => p.then((value) => ({ ok: true as const, value }), (error: Error) => ({ ok: false as const, error }));

describe('stream bridges: a stream that is already over', () => {
  it('fromReadable of a Readable destroyed before the subscription fails with ERR_STREAM_PREMATURE_CLOSE', async () => {
    const r = new Readable({ objectMode: true, read() {} });
    r.destroy();
    await new Promise((res) => r.once('close', res));
    const out = await settled(toArray(fromReadable(r)));
    expect(out.ok).toBe(false);
    expect(out.ok ? undefined : (out.error as Error & { code?: string }).code).toBe('ERR_STREAM_PREMATURE_CLOSE');
  });

  it('fromReadable of a Readable that already failed fails with its error', async () => {
    const r = new Readable({ objectMode: true, read() {} });
    r.on('error', () => undefined);
    r.destroy(new Error('EIO before anyone read'));
    await new Promise((res) => r.once('close', res));
    await expect(toArray(fromReadable(r))).rejects.toThrow('EIO before anyone read');
  });

  it('fromReadable of a Readable that ended normally still completes', async () => {
    const r = Readable.from([1, 2], { objectMode: true });
    r.resume();
    await new Promise((res) => r.once('end', res));
    await expect(toArray(fromReadable(r))).resolves.toEqual([]);
  });

  it('toWritable to a destroyed Writable fails with ERR_STREAM_DESTROYED and cancels the upstream, taking nothing', async () => {
    const w = new Writable({ objectMode: true, write: (_x, _e, cb) => cb() });
    w.destroy();
    await new Promise((res) => w.once('close', res));
    let cancelled = false;
    let pulled = 0;
    const src = publisher<number>(() => ({
      pull(e) {
        pulled++;
        e.next(1);
      },
      cancel() {
        cancelled = true;
      },
    }));
    const out = await settled(toWritable(src, w));
    expect(out.ok ? undefined : (out.error as Error & { code?: string }).code).toBe('ERR_STREAM_DESTROYED');
    expect(cancelled).toBe(true);
    expect(pulled).toBe(0);
  });

  it('toWritable to a Writable already ended (and so destroyed) fails with ERR_STREAM_WRITE_AFTER_END instead of resolving with nothing written', async () => {
    const written: number[] = [];
    const w = new Writable({ objectMode: true, write: (x: number, _e, cb) => (written.push(x), cb()) });
    w.end();
    await new Promise((res) => w.once('finish', res));
    const out = await settled(toWritable(fromArray([1, 2]), w));
    expect(out.ok ? undefined : (out.error as Error & { code?: string }).code).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(written).toEqual([]);
  });
});
