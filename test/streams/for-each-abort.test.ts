// forEach's `signal`: an abort cancels the upstream at once, and the returned promise rejects
// with the signal's reason only once the calls already running have settled — a call that never
// settles keeps it pending (documented at ForEachOptions.signal and in docs/streams.md).
import { describe, expect, it } from 'vitest';
import { forEach, publisher, type Publisher } from '../../src/streams/index.js';
import { observe, settle } from '../queue/helpers.js';

/** 0, 1, 2, ... on demand; records why it was cancelled. */
function counter(): { pub: Publisher<number>; cancelled: unknown[] } {
  const cancelled: unknown[] = [];
  let n = 0;
  const pub = publisher<number>(() => ({
    pull: (e) => {
      while (e.demand > 0) e.next(n++);
    },
    cancel: (reason) => cancelled.push(reason),
  }));
  return { pub, cancelled };
}

describe('forEach({ signal })', () => {
  it('an abort cancels the upstream at once; the promise waits for the running call, then rejects with the reason', async () => {
    const { pub, cancelled } = counter();
    const ac = new AbortController();
    let finish: () => void = () => undefined;
    const seen: number[] = [];
    const done = observe(
      forEach(pub, (x) => {
        seen.push(x);
        return new Promise<void>((resolve) => (finish = resolve));
      }, { signal: ac.signal }),
    );
    await settle();
    const reason = new Error('stop');
    ac.abort(reason);
    await settle();
    expect(cancelled).toEqual([reason]);
    expect(done.state).toBe('pending'); // the call for item 0 has not settled
    finish();
    await settle();
    expect(done.state).toBe('rejected');
    expect(done.error).toBe(reason);
    expect(seen).toEqual([0]); // nothing queued behind it was started
  });

  it('a signal already aborted rejects at once with its reason', async () => {
    const { pub, cancelled } = counter();
    const reason = new Error('before');
    await expect(forEach(pub, () => undefined, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(cancelled).toEqual([]);
  });
});
