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

  it("in a cluster, `failures` in a row on one master open it, whatever the others answered between them", async () => {
    const outcomes = async (g: StoreGuard, calls: string[]): Promise<void> => {
      for (const c of calls) await g.run(c, () => (c.endsWith('!') ? Promise.reject(new Error(`${c} lost`)) : Promise.resolve(1))).catch(() => undefined);
    };
    const nodeOf = (key: string): string => (key.startsWith('b') ? '10.0.0.2:6379' : '10.0.0.1:6379');
    // Before (counted over the store's calls only): 'shared' — each answer on master A reset the count.
    const g = new StoreGuard({ timeoutMs: 1000, failures: 3, probeMs: 60_000, nodeOf });
    const causes: (string | undefined)[] = [];
    g.onHealth((_h, cause) => causes.push(cause));
    await outcomes(g, ['a1', 'b1!', 'a2', 'b2!', 'a3']);
    expect(g.health).toBe('shared');
    await outcomes(g, ['b3!']);
    expect(g.health).toBe('fallback');
    expect(causes).toEqual(['b3! lost (master 10.0.0.2:6379: 3 calls in a row failed)']);
    g.close();
    // An answer from that master starts its count again; a guard without nodeOf counts the store's calls alone.
    const h = new StoreGuard({ timeoutMs: 1000, failures: 3, probeMs: 60_000, nodeOf });
    await outcomes(h, ['b1!', 'b2!', 'b3', 'a1', 'b4!', 'a2', 'b5!']);
    expect(h.health).toBe('shared');
    h.close();
    const single = new StoreGuard({ timeoutMs: 1000, failures: 3, probeMs: 60_000 });
    await outcomes(single, ['a1', 'b1!', 'a2', 'b2!', 'a3', 'b3!', 'a4', 'b4!']);
    expect(single.health).toBe('shared');
    single.close();
  });
});
