// A sliding window whose length changes under a key (a reload with another window, a key's
// override), in Redis: the script brings a state of another length to the policy's as the
// memory store does (test/rate/window-change.test.ts) — the same decisions at the same
// instants — and keeps the length in the state (byte 3: win, prev, curr, w). Before, a 60 s
// state read under 10 s windows looked idle: a tenant that had spent 10 got 10 more at once.
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryStore, ratePolicy } from '../../src/rate/index.js';
import type { RedisStore } from '../../src/redis/index.js';
import type { BatchOp } from '../../src/redis/rate-batch.js';
import { replayConsume } from '../../src/redis/rate-replay.js';
import { callRate } from './rate-commands.js';
import { sharedRedis, unique, usePrefixedStore } from './servers.js';

const svc = await sharedRedis();
let store: RedisStore;
let raw: Redis;

if (svc.up) {
  usePrefixedStore(svc.url, 'wchange', (s, r) => {
    store = s;
    raw = r;
  });
}

const WINDOWS = [
  ratePolicy({ algorithm: 'sliding-window', limit: 5, windowMs: 500, name: 'p' }),
  ratePolicy({ algorithm: 'sliding-window', limit: 3, windowMs: 200, name: 'p' }),
  ratePolicy({ algorithm: 'sliding-window', limit: 8, windowMs: 1300, name: 'p' }),
];

describe.skipIf(!svc.up)('sliding window: the window length changed in Redis', () => {
  it('the script decides as the memory store does when each operation may come under another window (same state, same instants)', async () => {
    const op = fc.record({
      dt: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 900, noNaN: true })),
      policy: fc.integer({ min: 0, max: WINDOWS.length - 1 }),
      refund: fc.boolean(),
      cost: fc.integer({ min: 1, max: 4 }),
      maxDelay: fc.constantFrom(0, 0, 80, 1000),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 25 }), async (ops) => {
        const key = `${store.config.keyPrefix}${unique('parity')}`;
        const mem = new MemoryStore();
        let now = 1.7e12 + Math.random() * 1e9;
        for (const o of ops) {
          now += o.dt;
          const policy = WINDOWS[o.policy]!;
          const batch: BatchOp[] = [{ key, policy, op: o.refund ? 'r' : 'c', x: o.cost, y: o.refund ? 0 : o.maxDelay }];
          const [a] = await callRate(raw, batch, now);
          if (o.refund) mem.refund('k', policy, o.cost, now);
          else expect(replayConsume(policy, a!.verdict, a!.reply, a!.at, a!.now, o.cost, o.maxDelay)).toEqual(mem.consume('k', policy, o.cost, now, o.maxDelay));
        }
        await raw.del(key);
      }),
      { numRuns: 40 },
    );
  });

  it('a spent 60 s window read under 10 s windows (Redis time): refused, not a fresh 10; the state keeps its length', async () => {
    const minute = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 60_000, name: 'w' });
    const tenS = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 10_000, name: 'w' });
    const rs = store.rateStore('w');
    const take = async (p: typeof minute): Promise<number> => (await Promise.all(Array.from({ length: 15 }, () => rs.consume('acme', p, 1, 0, 0)))).filter((d) => d.allowed).length;
    expect(await take(minute)).toBe(10);
    const b = (await raw.getBuffer(rs.keyOf('acme', minute)))!;
    expect([b[0], b.length, b.readDoubleLE(25)]).toEqual([3, 33, 60_000]);
    // Before: 10.
    expect(await take(tenS)).toBe(0);
    const after = (await raw.getBuffer(rs.keyOf('acme', tenS)))!;
    expect([after.readDoubleLE(17), after.readDoubleLE(25)]).toEqual([10, 10_000]);
    // Its expiry follows the new length: two 10 s windows on, not two minutes.
    expect(await raw.pttl(rs.keyOf('acme', tenS))).toBeLessThanOrEqual(23_000);
  });

  it("an earlier version's binary state (byte 1: win, prev, curr) is read under the policy's length and rewritten with it", async () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 9, windowMs: 500, name: 's' });
    const now = 1_764_760_000_123.4567;
    const key = `${store.config.keyPrefix}${unique('v1')}`;
    const old = Buffer.alloc(25);
    old[0] = 1;
    [Math.floor(now / 500), 3.5, 2].forEach((x, i) => old.writeDoubleLE(x, 1 + 8 * i));
    await raw.set(key, old, 'PX', 60_000);
    const [a] = await callRate(raw, [{ key, policy: p, op: 'c', x: 1, y: 0 }], now);
    const s = { win: Math.floor(now / 500), prev: 3.5, curr: 2, w: 500 };
    expect(replayConsume(p, a!.verdict, a!.reply, a!.at, a!.now, 1, 0).allowed).toBe(true);
    const b = (await raw.getBuffer(key))!;
    expect(b[0]).toBe(3);
    expect(Array.from({ length: 4 }, (_x, i) => b.readDoubleLE(1 + 8 * i))).toEqual([s.win, s.prev, s.curr + 1, 500]);
    await raw.del(key);
  });
});
