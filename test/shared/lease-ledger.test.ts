// The primary's LeaseLedger forgets a limit no holder uses any more — a token table once every
// holder has said it is done with it, a slot pool once every holder has released it and holds
// none — and nothing sooner: a live pool's fair share keeps its divisor, and a dead holder's
// tables keep their buckets for the holder that takes its place.
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/policy.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';

const policy = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 1000, burst: 10 });
const table = (name: string): { name: string; maxKeys: number } => ({ name, maxKeys: 100 });

describe('LeaseLedger: token tables', () => {
  it('a table goes when the last holder that used it says it is done, with its buckets; not before', () => {
    const ledger = new LeaseLedger({ now: () => 0 });
    const t = table('limit-v1');
    ledger.useTable('w1', t, true);
    ledger.useTable('w2', t, true);
    for (const key of ['a', 'b', 'c']) expect(ledger.takeTokens(key, policy, 10, 10, t).taken).toBe(10);
    expect(ledger.tokenTables()).toEqual({ count: 1, keys: 3 });
    ledger.useTable('w1', t, false);
    // w2 still uses it: the spent tenants stay spent.
    expect(ledger.tokenTables()).toEqual({ count: 1, keys: 3 });
    expect(ledger.takeTokens('a', policy, 1, 1, t).taken).toBe(0);
    ledger.useTable('w2', t, false);
    expect(ledger.tokenTables()).toEqual({ count: 0, keys: 0 });
    // Said twice, or by a holder that never used it: nothing more happens.
    ledger.useTable('w2', t, false);
    ledger.useTable('w3', t, false);
    expect(ledger.tokenTables()).toEqual({ count: 0, keys: 0 });
  });

  it('reloads that change a limit: one table at a time, however many reloads', () => {
    const ledger = new LeaseLedger({ now: () => 0 });
    for (let reload = 0; reload < 20; reload++) {
      const t = table(`limit-v${reload}`);
      // Each worker builds the new limiter (and says so) before it retires the old one.
      for (const w of ['w1', 'w2']) ledger.useTable(w, t, true);
      for (let k = 0; k < 50; k++) ledger.takeTokens(`tenant-${k}`, policy, 1, 1, t);
      if (reload > 0) for (const w of ['w1', 'w2']) ledger.useTable(w, table(`limit-v${reload - 1}`), false);
      expect(ledger.tokenTables()).toEqual({ count: 1, keys: 50 });
    }
  });

  it("a dead holder's table stays for its successor (a spent tenant stays spent); one only dead holders used goes once its buckets are full again", () => {
    let now = 0;
    const ledger = new LeaseLedger({ now: () => now });
    const t = table('limit');
    ledger.useTable('w1', t, true);
    expect(ledger.takeTokens('a', policy, 10, 10, t).taken).toBe(10);
    ledger.drop('w1');
    expect(ledger.tokenTables().count).toBe(1);
    ledger.useTable('w1-again', t, true);
    expect(ledger.takeTokens('a', policy, 1, 1, t).taken).toBe(0);
    // Its successor dies too, and nobody takes the limiter on: kept while a bucket is spent...
    ledger.drop('w1-again');
    now = 500;
    ledger.drop('someone-else');
    expect(ledger.tokenTables().count).toBe(1);
    // ...and forgotten once every bucket is full again: a fresh table would answer the same.
    now = 5_000;
    ledger.drop('someone-else');
    expect(ledger.tokenTables()).toEqual({ count: 0, keys: 0 });
  });

  it("a dead holder's full table is kept while the floor of the tenants it evicted is live, not only its buckets", () => {
    let now = 0;
    const ledger = new LeaseLedger({ now: () => now });
    const t = { name: 'limit', maxKeys: 2 };
    ledger.useTable('w1', t, true);
    for (const key of ['a', 'b']) expect(ledger.takeTokens(key, policy, 10, 10, t).taken).toBe(10); // spent until 1000
    expect(ledger.takeTokens('c', policy, 1, 1, t).taken).toBe(1); // evicts a into the floor (spent until 1000)
    // b and c give everything back: both full again, idle.
    ledger.returnTokens('b', policy, 10, t);
    ledger.returnTokens('c', policy, 1, t);
    now = 1;
    ledger.drop('w1');
    expect(ledger.tokenTables()).toEqual({ count: 1, keys: 0 });
    ledger.useTable('w2', t, true);
    // The evicted tenant is still spent: forgetting the table with its floor would give it a fresh burst.
    expect(ledger.takeTokens('a', policy, 1, 1, t)).toMatchObject({ taken: 0, full: true });
  });
});

describe('LeaseLedger: slot pools', () => {
  it('a pool goes once every holder released it and holds none; until then the fair share keeps its divisor', () => {
    const ledger = new LeaseLedger();
    expect(ledger.takeSlots('w1', 'p/concurrency', 6, 2).granted).toBe(2);
    expect(ledger.takeSlots('w2', 'p/concurrency', 6, 2).granted).toBe(2);
    // w3 wants 4, gets 2 and still wants 2: the others' share is a third of the limit.
    expect(ledger.takeSlots('w3', 'p/concurrency', 6, 4)).toEqual({ granted: 2, fairShare: 6, othersShort: 0, idleElsewhere: 4 });
    expect(ledger.takeSlots('w2', 'p/concurrency', 6, 1)).toEqual({ granted: 0, fairShare: 2, othersShort: 0, idleElsewhere: 4 });
    ledger.returnSlots('w1', 'p/concurrency', 2);
    ledger.releaseSlots('w1', 'p/concurrency');
    // w1 is done with it, but the pool lives on: still a third (6 / 3), not a half (6 / 2).
    expect(ledger.takeSlots('w2', 'p/concurrency', 6, 1)).toEqual({ granted: 1, fairShare: 2, othersShort: 0, idleElsewhere: 3 });
    expect(Object.keys(ledger.slots())).toEqual(['p/concurrency']);
    // Released while it still holds slots: the pool waits for them.
    ledger.releaseSlots('w2', 'p/concurrency');
    ledger.releaseSlots('w3', 'p/concurrency');
    expect(ledger.slots()['p/concurrency']).toMatchObject({ held: { w1: 0, w2: 3, w3: 2 }, wanted: 0 });
    ledger.returnSlots('w2', 'p/concurrency', 3);
    expect(Object.keys(ledger.slots())).toEqual(['p/concurrency']);
    ledger.returnSlots('w3', 'p/concurrency', 2);
    expect(ledger.slots()).toEqual({});
  });

  it("a pool whose every holder died goes (its successors' first call makes it again, as it was)", () => {
    const ledger = new LeaseLedger();
    ledger.takeSlots('w1', 'p/concurrency', 4, 2);
    ledger.drop('w1');
    expect(ledger.slots()).toEqual({});
    expect(ledger.takeSlots('w2', 'p/concurrency', 4, 4)).toEqual({ granted: 4, fairShare: 4, othersShort: 0, idleElsewhere: 0 });
  });
});
