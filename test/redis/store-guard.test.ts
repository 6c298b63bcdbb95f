// StoreGuard without Redis: calls answered in any order settle once; one that never answers
// times out at its own deadline however many calls around it were answered and dropped.
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/redis/index.js';
import { StoreGuard } from '../../src/redis/store-guard.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('StoreGuard', () => {
  it('answered calls are done with at once; a silent one among them still times out, alone', async () => {
    const g = new StoreGuard({ timeoutMs: 50, failures: 3, probeMs: 500 });
    try {
      const before = Array.from({ length: 1000 }, (_, i) => g.run('k', () => Promise.resolve(i)));
      const silent = g.run('k', () => new Promise<number>(() => undefined));
      const late = deferred<number>();
      const after = g.run('k', () => late.promise);
      expect(await Promise.all(before)).toHaveLength(1000);
      late.resolve(7); // answered while the silent call before it still waits
      expect(await after).toBe(7);
      await expect(silent).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(silent).rejects.toThrow(/no answer within 50 ms/);
      expect(g.stats()).toMatchObject({ sent: 1002, timedOut: 1, failed: 0 });
      // One timeout is not an outage (3 in a row are).
      expect(g.health).toBe('shared');
      await g.settled();
    } finally {
      g.close();
    }
  });

  it('calls after a quiet spell time out too: the timer re-arms for whatever still waits', async () => {
    const g = new StoreGuard({ timeoutMs: 30, failures: 3, probeMs: 500 });
    try {
      await g.run('k', () => Promise.resolve(1));
      await new Promise((r) => setTimeout(r, 60)); // the first timer fired with nothing due
      const a = g.run('k', () => new Promise<number>(() => undefined));
      await expect(a).rejects.toThrow(/no answer within 30 ms/);
      expect(g.stats().timedOut).toBe(1);
    } finally {
      g.close();
    }
  });
});
