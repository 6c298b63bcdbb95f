// A slow Redis (DEBUG SLEEP on a redis-server of the test's own, stopped by PID after): a lease
// call that timed out at the client still runs in Redis once it wakes. The ids it granted are
// held by nobody here — not renewed, not given back — and counted against every process until
// their TTL (a minute here): before, the limit lost those slots for the whole TTL. Now the
// client gives back the ids of an acquire whose answer it never had, at its next call.
import { describe, expect, it, vi } from 'vitest';
import type { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, sleepyRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `make()`, and its renew timer's tick (the setInterval of `ms` it starts): fired by the test, not by 20 s passing. */
function withRenewTick<T>(ms: number, make: () => T): { made: T; renewTick: () => void } {
  const spy = vi.spyOn(globalThis, 'setInterval');
  try {
    const made = make();
    const call = spy.mock.calls.find((c) => c[1] === ms);
    if (call === undefined) throw new Error(`no setInterval of ${ms} ms started`);
    return { made, renewTick: () => (call[0] as () => void)() };
  } finally {
    spy.mockRestore();
  }
}

describe.skipIf(!can)('lease calls that timed out at the client but ran in Redis (a slow Redis of our own)', () => {
  const { admin, store } = sleepyRedis(10);

  it('a shared concurrency gate: the slot its timed-out acquire took in Redis comes back at its next call, not after the TTL', async () => {
    const gate = store().concurrency({ name: 'slow', limit: 4, leaseTtlMs: 60_000, onStoreError: 'closed' });
    const leases = (): Promise<number> => admin().zcard(gate.leases.key);
    try {
      const p = await gate.admit();
      expect(p.ok).toBe(true);
      if (p.ok) p.release();
      expect(await until(async () => (await leases()) === 0, 2000)).toBe(true);
      // Redis sleeps 1 s; the acquire sent meanwhile times out here after 150 ms and runs once it wakes.
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      const r = await gate.admit();
      expect(r.ok).toBe(false);
      await slept;
      expect(gate.stats().held).toBe(0);
      // The next calls (the gate retries the store every 100 ms in its failure mode) give it back.
      expect(await until(async () => (await leases()) === 0 && gate.stats().mode === 'shared', 3000)).toBe(true);
      // And the limit is whole: 4 callers admitted at once.
      const four = await Promise.all([0, 1, 2, 3].map(async () => gate.admit()));
      expect(four.filter((x) => x.ok)).toHaveLength(4);
      for (const x of four) if (x.ok) x.release();
    } finally {
      gate.close();
    }
  });
});

describe.skipIf(!can)('lease give-backs that never reached Redis (the breaker open while it slept)', () => {
  const { admin, store } = sleepyRedis(1);
  type Slots = ReturnType<RedisStore['limitStore']>;
  const leases = (name: string): Promise<number> => admin().zcard(`orphan:{${name}}:leases`);

  /** 2 slots of `name` taken at limit 4, then `stalled` while Redis sleeps 1 s (its calls time out, the breaker opens); resolves once the store is back. */
  async function whileAsleep(slots: Slots, name: string, stalled: () => Promise<void>): Promise<void> {
    expect((await slots.takeSlots(name, 4, 2)).granted).toBe(2);
    expect(await leases(name)).toBe(2);
    const slept = admin().call('DEBUG', 'SLEEP', '1');
    await sleep(100);
    await stalled();
    await slept;
    expect(await until(() => store().health === 'shared', 3000)).toBe(true);
  }
  /** `run` on a limit store of its own, closed after. */
  async function withSlots(run: (slots: Slots) => Promise<void>, leaseTtlMs = 60_000): Promise<void> {
    const slots = store().limitStore({ leaseTtlMs });
    try {
      await run(slots);
    } finally {
      await slots.close();
    }
  }
  /** One more slot asked for (times out: the breaker opens, failures 1), then the two given back (not sent at all). */
  const takeThenGiveBack = (slots: Slots, name: string) => async (): Promise<void> => {
    await expect(slots.takeSlots(name, 4, 1)).rejects.toThrow();
    await expect(slots.returnSlots(name, 2)).rejects.toThrow();
  };

  it('leased slots (limitStore) given back while the store is away go back at the next call, not after the TTL', async () => {
    await withSlots(async (slots) => {
      await whileAsleep(slots, 'gw', takeThenGiveBack(slots, 'gw'));
      expect(await leases('gw')).toBe(3); // the two never given back, and the one granted to nobody
      // The next call gives back all three.
      expect((await slots.takeSlots('gw', 4, 4)).granted).toBe(4);
      expect(await leases('gw')).toBe(4);
      await slots.returnSlots('gw', 4);
      expect(await leases('gw')).toBe(0);
    });
  });

  it('a reload that changes the limit meanwhile: the give-backs still owed go back with the first call at the new limit', async () => {
    await withSlots(async (slots) => {
      await whileAsleep(slots, 'gw2', takeThenGiveBack(slots, 'gw2'));
      expect(await leases('gw2')).toBe(3);
      // The limit 4 -> 5 (a reload): a new lease client takes over the old one's leases — and what it owes.
      expect((await slots.takeSlots('gw2', 5, 1)).granted).toBe(1);
      expect(await leases('gw2')).toBe(1);
    });
  });

  it('slots given back while the store was away, none held after: the renew timer gives them back once it is back (a retired lease makes no next call)', async () => {
    // The store's renew timer ticks every TTL / 3 (20 s here): the test fires it.
    const { made: slots, renewTick } = withRenewTick(20_000, () => store().limitStore({ leaseTtlMs: 60_000 }));
    try {
      await whileAsleep(slots, 'gw7', takeThenGiveBack(slots, 'gw7'));
      expect(await leases('gw7')).toBe(3); // owed, none held, and no call of this name follows
      renewTick();
      // Before: still 3 — the timer renewed only clients holding leases, so they waited out the TTL.
      expect(await until(async () => (await leases('gw7')) === 0, 3000)).toBe(true);
    } finally {
      await slots.close();
    }
  });

  it('a shared concurrency gate, idle, whose give-back the open breaker refused: its renew timer gives it back once the store is back', async () => {
    const { made: gate, renewTick } = withRenewTick(20_000, () => store().concurrency({ name: 'gate8', limit: 4, leaseTtlMs: 60_000, onStoreError: 'closed' }));
    const other = store().limitStore({ leaseTtlMs: 60_000 });
    try {
      const p = await gate.admit();
      expect(p.ok).toBe(true);
      expect(await leases('gate8')).toBe(1);
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      // Another view's call times out: the breaker opens (failures 1); the gate made no call and stays 'shared'.
      await expect(other.takeSlots('gw8', 4, 1)).rejects.toThrow();
      if (p.ok) p.release(); // its give-back refused, not sent
      await slept;
      expect(await until(() => store().health === 'shared', 3000)).toBe(true);
      expect(gate.stats()).toMatchObject({ held: 0, mode: 'shared', inFlight: 0 });
      expect(await leases('gate8')).toBe(1);
      renewTick();
      // Before: still 1 — an idle gate in 'shared' mode holding nothing skipped its renewal, owing the slot until the TTL.
      expect(await until(async () => (await leases('gate8')) === 0, 3000)).toBe(true);
    } finally {
      gate.close();
      await other.close();
    }
  });

  it('close() gives back what is still owed, not only the slots held (before: nothing, with none held)', async () => {
    const slots = store().limitStore({ leaseTtlMs: 60_000 });
    await whileAsleep(slots, 'gw3', takeThenGiveBack(slots, 'gw3'));
    expect(await leases('gw3')).toBe(3); // owed: the two given back while away, the one granted to nobody; held: none
    await slots.close();
    expect(await leases('gw3')).toBe(0);
  });

  it('an acquire Redis ran more than a TTL after it was sent: its id is still given back at the next call (before: forgotten a TTL after sending, while its lease lived a TTL after it ran)', async () => {
    await withSlots(async (slots) => {
      const slept = admin().call('DEBUG', 'SLEEP', '1.5');
      await sleep(100);
      await expect(slots.takeSlots('gw6', 4, 1)).rejects.toThrow(); // sent at ~0.1 s, run at ~1.5 s: its lease lives to ~2.5 s
      await slept;
      expect(await until(() => store().health === 'shared', 3000)).toBe(true);
      expect((await slots.takeSlots('gw6', 4, 1)).granted).toBe(1);
      // The orphan given back (had the store come back after ~2.5 s, it would have expired anyway: 1 either way).
      expect(await leases('gw6')).toBe(1);
    }, 1000);
  });

  it('an acquire answered on the replaced client after a reload: its slot is held by the new client, given back by returnSlots', async () => {
    await withSlots(async (slots) => {
      const [a, b] = await Promise.all([slots.takeSlots('gw5', 4, 1), slots.takeSlots('gw5', 5, 1)]);
      expect([a.granted, b.granted]).toEqual([1, 1]);
      expect(await leases('gw5')).toBe(2);
      await slots.returnSlots('gw5', 2);
      expect(await leases('gw5')).toBe(0);
    });
  });

  it('a call in flight on the replaced client at a reload: what it leaves owed goes to the client that replaced it', async () => {
    await withSlots(async (slots) => {
      await whileAsleep(slots, 'gw4', async () => {
        // Both sent while Redis sleeps: the first at limit 4, the second at 5 (a reload: a new client); both time out.
        const old = slots.takeSlots('gw4', 4, 1);
        const reloaded = slots.takeSlots('gw4', 5, 1);
        await expect(old).rejects.toThrow();
        await expect(reloaded).rejects.toThrow();
        await expect(slots.returnSlots('gw4', 2)).rejects.toThrow();
      });
      expect(await leases('gw4')).toBe(4);
      // The next call gives back all four: the old client's acquire's id too.
      expect((await slots.takeSlots('gw4', 5, 1)).granted).toBe(1);
      expect(await leases('gw4')).toBe(1);
    });
  });
});
