// toWritableStream to a WritableStream someone else closed (or is closing), or has locked.
// Before: the first write hit Node's own assertion (writer.write on a closed stream throws
// ERR_INTERNAL_ASSERTION in Node 20 rather than rejecting), which surfaced as a §2.13 "the
// subscriber's onNext threw" StreamRuleError naming no stream; a locked stream threw Node's
// TypeError out of toWritableStream itself rather than the argument error the other bad
// streams get.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { fromArray, map, pipe, toWritableStream } from '../../src/streams/index.js';

async function closedStream(finish: boolean): Promise<WritableStream<number>> {
  const ws = new WritableStream<number>({ close: () => new Promise<void>((r) => setTimeout(r, finish ? 0 : 50)) });
  const w = ws.getWriter();
  const closing = w.close();
  w.releaseLock();
  if (finish) await closing;
  return ws;
}

describe('toWritableStream to a stream closed by someone else', () => {
  it.each([
    ['closed', true],
    ['closing', false],
  ])('%s: rejects saying the stream is closed, and cancels the publisher', async (_state, finish) => {
    const ws = await closedStream(finish);
    let pulled = 0;
    const err: unknown = await toWritableStream(
      pipe(
        fromArray([1, 2, 3]),
        map((x: number) => (pulled++, x)),
      ),
      ws,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^toWritableStream: the WritableStream was closed before the stream ended/);
    expect((err as { code?: string }).code).toBe('ERR_INVALID_STATE');
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('a locked stream is an argument error, thrown as the other bad streams are', () => {
    const ws = new WritableStream<number>();
    ws.getWriter();
    expect(() => toWritableStream(fromArray([1]), ws)).toThrow(InvalidArgumentError);
    expect(() => toWritableStream(fromArray([1]), ws)).toThrow(/stream: expected an unlocked WritableStream/);
  });
});
