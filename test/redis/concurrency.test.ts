// Shared concurrency (leases with a TTL) and shared breaker state against the real Redis.
// Each RedisStore here is a "process": its own connection, its own holder id.
import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import type { SharedConcurrencyGate } from '../../src/redis/index.js';
import { sharedRedis, unique, until, useProcesses } from './servers.js';

const svc = await sharedRedis();
const { proc, raw: rawClient, prefix } = useProcesses(svc.url, 'c');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run `n` callers through `gate`, each holding its slot `holdMs()`; counts in flight outside sluice. */
function callers(gate: SharedConcurrencyGate, n: number, holdMs: () => number, count: { now: number; max: number; done: number; refused: number }): Promise<void>[] {
  return Array.from({ length: n }, async () => {
    const a = await gate.admit();
    if (!a.ok) {
      count.refused++;
      return;
    }
    count.now++;
    count.max = Math.max(count.max, count.now);
    await sleep(holdMs());
    count.now--;
    count.done++;
    a.release();
  });
}


describe.skipIf(!svc.up)('SharedConcurrencyGate', () => {
  it('two processes, limit 5, 40 callers with random hold times: never more than 5 in flight; every caller served', async () => {
    const name = unique('pool');
    const [a, b] = [await proc(), await proc()];
    const ga = a.concurrency({ name, limit: 5, maxQueue: 100 });
    const gb = b.concurrency({ name, limit: 5, maxQueue: 100 });
    const count = { now: 0, max: 0, done: 0, refused: 0 };
    let maxLeased = 0;
    const watch = setInterval(() => void rawClient().zcard(ga.leases.key).then((n) => (maxLeased = Math.max(maxLeased, n))), 5);
    await Promise.all([...callers(ga, 20, () => 5 + Math.random() * 25, count), ...callers(gb, 20, () => 5 + Math.random() * 25, count)]);
    clearInterval(watch);
    expect(count.max).toBeLessThanOrEqual(5);
    expect(count.max).toBeGreaterThanOrEqual(2);
    expect(maxLeased).toBeLessThanOrEqual(5);
    expect(count.done).toBe(40);
    // Per request: nothing stays leased once idle.
    expect(await until(async () => (await rawClient().zcard(ga.leases.key)) === 0, 3000)).toBe(true);
    expect(ga.stats()).toMatchObject({ inFlight: 0, queued: 0, held: 0, mode: 'shared' });
  });

  it('leases are renewed while held, and a dead holder’s slots come back within the TTL', async () => {
    const name = unique('ttl');
    // The holder is a process of its own, SIGKILLed below: a crash, not a close (no give-back,
    // no QUIT), its renewals gone with it. TTL 1.5 s, renewed every 500 ms: room for a late
    // renewal on a busy host.
    const TTL = 1500;
    const holder = fork('test/redis/lease-holder-child.ts', [svc.url, prefix(), name, String(TTL), '3'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    holder.stdout!.on('data', (d: Buffer) => void (out += String(d)));
    const exited = new Promise<void>((r) => holder.once('exit', () => r()));
    try {
      // A busy machine starts tsx slowly.
      expect(await until(() => out.includes('held'), 60_000)).toBe(true);
      const key = /held 3 (\S+)/.exec(out)![1]!;
      const b = await proc();
      const redisNow = async (): Promise<number> => {
        const [sec, micro] = await rawClient().time();
        return Number(sec) * 1000 + Number(micro) / 1000;
      };
      // Two TTLs by Redis's clock: renewed meanwhile.
      const granted = await redisNow();
      expect(await until(async () => (await redisNow()) - granted > 2 * TTL, 30_000)).toBe(true);
      expect(await rawClient().zcard(key)).toBe(3);
      const gb = b.concurrency({ name, limit: 3, maxQueue: 0, leaseTtlMs: TTL });
      expect(gb.leases.key).toBe(key);
      expect((await gb.admit()).ok).toBe(false); // full elsewhere: refused after one lease call
      // The crash.
      holder.kill('SIGKILL');
      await exited;
      // Within the TTL by Redis's own clock, whatever this host's load: no lease of the dead
      // holder's expires later than a TTL from now, nor does the lease set (nothing renews it).
      const [[sec, micro], scores, pttl] = (await rawClient().multi().time().zrange(key, '0', '-1', 'WITHSCORES').pttl(key).exec())!.map(([, r]) => r) as [[string, string], string[], number];
      const now = Number(sec) * 1000 + Number(micro) / 1000;
      const expiries = scores.filter((_x, i) => i % 2 === 1).map(Number);
      expect(expiries).toHaveLength(3);
      for (const e of expiries) expect(e - now).toBeLessThanOrEqual(TTL);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(TTL);
      expect(await until(async () => (await rawClient().zcard(key)) === 0, 10_000)).toBe(true);
      const p = await gb.acquire();
      expect(p.ok).toBe(true);
      p.release();
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    }
  }, 120_000);

  it('fairness: a process whose callers wait gets slots although another holds them all and keeps a queue', async () => {
    const name = unique('fair');
    const [a, b] = [await proc(), await proc()];
    const ga = a.concurrency({ name, limit: 4, maxQueue: 1000, pollMs: 5 });
    const gb = b.concurrency({ name, limit: 4, maxQueue: 1000, pollMs: 5 });
    const ca = { now: 0, max: 0, done: 0, refused: 0 };
    const cb = { now: 0, max: 0, done: 0, refused: 0 };
    const doneA = Promise.all(callers(ga, 200, () => 10, ca));
    await until(() => ca.now === 4, 3000); // a holds the whole limit and has a queue
    const doneB = Promise.all(callers(gb, 20, () => 10, cb));
    await doneB;
    // b was served while a still had work waiting: it did not wait for a's queue to empty.
    expect(cb.done).toBe(20);
    expect(ca.done).toBeLessThan(200);
    expect(cb.max).toBeGreaterThanOrEqual(1);
    await doneA;
    expect(ca.max + cb.max).toBeLessThanOrEqual(8);
  });

  it('fairness leaves no slot idle: three processes, all loaded, on a limit of 10 hold all 10 (the share is 3)', async () => {
    const name = unique('third');
    const gates = [await proc(), await proc(), await proc()].map((p) => p.concurrency({ name, limit: 10, maxQueue: 1000, pollMs: 5 }));
    let run = true;
    const loops = gates.flatMap((g) =>
      Array.from({ length: 6 }, async () => {
        while (run) {
          const p = await g.admit();
          if (!p.ok) continue;
          await sleep(10);
          p.release();
        }
      }),
    );
    // Before: each kept at most ⌊10 / 3⌋ and asked no further: 9 held, the tenth slot unused.
    const whole = await until(() => gates.reduce((n, g) => n + g.stats().held, 0) === 10, 3000);
    run = false;
    await Promise.all(loops);
    expect(whole).toBe(true);
    for (const g of gates) g.close();
  });

  it('maxQueue 0: a caller waits only for one lease call — admitted if the limit has room, else refused "concurrency"', async () => {
    const name = unique('noq');
    const a = await proc();
    const g = a.concurrency({ name, limit: 2 });
    const p1 = await g.admit();
    const p2 = await g.admit();
    const p3 = await g.admit();
    expect([p1.ok, p2.ok, p3.ok]).toEqual([true, true, false]);
    expect(!p3.ok && p3.reason).toBe('concurrency');
    if (p1.ok) p1.release();
    expect((await g.admit()).ok).toBe(true);
  });

  it('close: waiters are refused "closed", leases go back as work ends', async () => {
    const name = unique('close');
    const a = await proc();
    const g = a.concurrency({ name, limit: 1, maxQueue: 5 });
    const p = await g.acquire();
    const waiting = g.admit();
    g.close();
    expect(await waiting).toMatchObject({ ok: false, reason: 'closed' });
    expect(await rawClient().zcard(g.leases.key)).toBe(1);
    p.release();
    expect(await until(async () => (await rawClient().zcard(g.leases.key)) === 0, 3000)).toBe(true);
  });

  it('options are validated once, naming the option', async () => {
    const a = await proc();
    expect(() => a.concurrency({ limit: 0 })).toThrow(/limit: expected an integer >= 1/);
    expect(() => a.concurrency({ limit: 2, leaseTtlMs: 5 })).toThrow(/leaseTtlMs/);
    expect(() => a.concurrency({ limit: 2, spare: 3 })).toThrow(/spare/);
    expect(() => a.concurrency({ limit: 2, name: 'a{b}' })).toThrow(/name/);
  });
});

describe.skipIf(!svc.up)('SharedBreaker', () => {
  it('one process trips: the others open at their next sync; probes closing it close it everywhere', async () => {
    const name = unique('brk');
    const make = (): CircuitBreaker => new CircuitBreaker({ name, openMs: 3000 });
    const [a, b, c] = [await proc(), await proc(), await proc()];
    const [ba, bb, bc] = [make(), make(), make()];
    // b syncs only when the test says (its timer an hour away); c on its own timer, every 50 ms.
    const shared = [a.shareBreaker(ba, { syncMs: 50 }), b.shareBreaker(bb, { syncMs: 3_600_000 }), c.shareBreaker(bc, { syncMs: 50 })];
    try {
      await Promise.all(shared.map((s) => s.sync()));
      ba.trip();
      // Counted in syncs, not ms (a busy host runs timers late): once the opening is in Redis,
      // the next read of it opens a process's breaker — so within syncMs plus a round trip. The
      // open time is long against a busy host's delays: a sync after it has run out rightly
      // changes nothing (an open time of 400 ms ran out between the write and b's sync beside
      // the fresh-clone CI's CPU hog).
      expect(await until(async () => (await rawClient().hget(shared[0]!.key, 's')) === 'open', 10_000)).toBe(true);
      expect(bb.state).toBe('closed');
      await shared[1]!.sync();
      expect(bb.state).toBe('open');
      expect(await until(() => bc.state === 'open', 10_000)).toBe(true);
      const r = bb.admit();
      expect(!r.ok && r.reason).toBe('circuit_open');
      expect(!r.ok && r.retryAfterMs).toBeLessThanOrEqual(3000);
      // After the open time one process probes and succeeds: closed everywhere.
      expect(await until(() => ba.state === 'half-open', 10_000)).toBe(true);
      const probe = ba.admit();
      expect(probe.ok).toBe(true);
      if (probe.ok) probe.release('success');
      expect(ba.state).toBe('closed');
      expect(await until(async () => (await rawClient().hget(shared[0]!.key, 's')) === 'closed', 10_000)).toBe(true);
      await shared[1]!.sync();
      expect(bb.state).toBe('closed');
      expect(await until(() => bc.state === 'closed', 10_000)).toBe(true);
    } finally {
      for (const s of shared) s.close();
    }
  });
});

describe.skipIf(!svc.up)('shared concurrency: a lease key of another type', () => {
  it('warns once (SLUICE_STORE_ERROR naming the key), not at every retry of its failure mode; the key is left as it is', async () => {
    const store = await proc();
    const name = unique('wrongtype');
    const key = `${store.config.keyPrefix}{${name}}:leases`;
    await rawClient().set(key, 'planted');
    const warnings: string[] = [];
    const on = (w: Error & { code?: string }): void => void (w.code === 'SLUICE_STORE_ERROR' && warnings.push(w.message));
    process.on('warning', on);
    const gate = store.concurrency({ name, limit: 2, maxQueue: 10, maxWaitMs: 300, onStoreError: 'closed' });
    try {
      for (let i = 0; i < 3; i++) expect((await gate.admit()).ok).toBe(false);
      // In its failure mode the gate tries the store every 100 ms: before, a warning each time.
      await sleep(1000);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/WRONGTYPE/);
      expect(warnings[0]).toContain(key);
      expect(await rawClient().get(key)).toBe('planted');
    } finally {
      process.off('warning', on);
      gate.close();
      await rawClient().del(key);
    }
  });
});
