// LeaseClient.acquire answered in another epoch (Redis lost its lease data) renews the held leases
// at once, before the answer is used. When that renewal fails (the store away, a timeout), the
// acquire rejects: its caller counts none of what it granted. Before, the granted ids stayed in
// `held` all the same — renewed by the store's timer for as long as the process ran, counted in
// Redis against every holder, and used by nobody (SlotLease never heard of them). Now they are
// owed: given back with the next call. A scripted link stands in for Redis (no server).
import { describe, expect, it } from 'vitest';
import { LeaseClient } from '../../src/redis/lease-client.js';
import type { StoreLink } from '../../src/redis/store-link.js';

/** A link whose script calls answer from `replies` in turn (an Error rejects), recording each call's args. */
function scripted(replies: (unknown[] | Error)[]): { link: StoreLink; calls: (string | number)[][] } {
  const calls: (string | number)[][] = [];
  let sent = 0;
  const link = {
    guard: { stats: () => ({ sent, timedOut: 0, failed: 0, shortCircuited: 0 }) },
    closed: () => false,
    script: (_name: string, _keys: readonly string[], args: readonly (string | number)[]) => {
      calls.push([...args]);
      sent++;
      const r = replies.shift();
      if (r === undefined) return Promise.reject(new Error('no reply scripted'));
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    },
  };
  return { link: link as unknown as StoreLink, calls };
}

describe('LeaseClient.acquire whose renewal after an epoch change fails', () => {
  it('rejects and owes what it granted: nothing stays held that its caller does not count', async () => {
    const { link, calls } = scripted([
      [1, 0, 1, 'e1', 0], // the first acquire: 1 granted in epoch e1
      [1, 0, 1, 'e2', 1], // the second: answered in epoch e2 (lease data lost), 1 granted for work running on none
      new Error('timed out'), // the renewal it runs at once
      [2, 0, 0, 'e2', 0], // the next call's give-back of what is owed
      [1, 0, 1, 'e2', 0], // the next call itself (a renewal)
    ]);
    const c = new LeaseClient(link, 'p:', 'n', 4, 60_000);
    await c.acquire(1, 1, 1);
    expect(c.held).toEqual([`${c.holder}#1`]);
    await expect(c.acquire(1, 1, 2)).rejects.toThrow('timed out');
    // Before: held [#1, #2] — #2 granted, its caller told nothing, renewed for good.
    expect(c.held).toEqual([`${c.holder}#1`]);
    expect(c.owed).toBe(2);
    // The next call gives #2 back first, then renews #1 alone.
    await c.renew(0, 1);
    expect(calls[3]).toEqual(['r', 4, 60_000, c.holder, 0, 'e2', 0, `${c.holder}#2`]);
    expect(calls[4]).toEqual(['n', 4, 60_000, c.holder, 0, 'e2', 1, `${c.holder}#1`]);
    expect(c.owed).toBe(1);
  });
});
