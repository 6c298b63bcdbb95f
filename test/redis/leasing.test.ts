// Fewer round trips: tokens leased in batches (LeasedRateStore over RedisLimitStore) and slots
// leased by SlotLease, against the real Redis. The bound rate·t + burst holds across processes;
// the cost of a batch is tokens held out of the others' reach, never tokens minted.
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { KeyedRateLimiter } from '../../src/rate/index.js';
import { SlotLease } from '../../src/shared/slot-lease.js';
import { peakHeld } from './peak-held.js';
import { sharedRedis, unique, useProcesses } from './servers.js';

const svc = await sharedRedis();
const { proc, raw: rawClient, prefix: keyPrefix } = useProcesses(svc.url, 'l');

async function redisNow(): Promise<number> {
  const [s, us] = await rawClient().time();
  return Number(s) * 1000 + Number(us) / 1000;
}


describe.skipIf(!svc.up)('leasing', () => {
  it('batched tokens: two processes, one leasing and one asking per request, share one bucket within rate·t + burst', async () => {
    const name = unique('tok');
    const [a, b] = [await proc(), await proc()];
    const policy = { algorithm: 'gcra', rate: 200, burst: 20 } as const;
    const leased = a.leasedRateStore(name, { batch: 4, holdMs: 50 });
    const la = new KeyedRateLimiter({ policy, store: leased });
    const lb = new KeyedRateLimiter({ policy, store: b.rateStore(name) });
    const t0 = await redisNow();
    const end = Date.now() + 800;
    let admittedA = 0;
    let admittedB = 0;
    const runA = async (): Promise<void> => {
      while (Date.now() < end) {
        if ((await la.admit({ key: 'k' })).ok) admittedA++;
        else await new Promise((r) => setTimeout(r, 2));
      }
    };
    const runB = async (): Promise<void> => {
      while (Date.now() < end) if ((await lb.admit({ key: 'k' })).ok) admittedB++;
    };
    await Promise.all([runA(), runA(), runB(), runB()]);
    leased.close();
    const t = (await redisNow()) - t0;
    expect(admittedA + admittedB).toBeLessThanOrEqual(20 + (200 * t) / 1000 + 1);
    expect(admittedA).toBeGreaterThan(0);
    expect(admittedB).toBeGreaterThan(0);
  });

  it('with tokens to spare, one script call serves up to batch + 1 admissions', async () => {
    const a = await proc();
    const leased = a.leasedRateStore(unique('few'), { batch: 9 });
    const l = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 100_000, burst: 10_000 }, store: leased });
    const before = a.guard.stats().sent;
    let ok = 0;
    for (let i = 0; i < 300; i++) if ((await l.admit({ key: 'k' })).ok) ok++;
    expect(ok).toBe(300);
    // 300 admissions from about 30 takes (plus any give-back of unspent tokens).
    expect(a.guard.stats().sent - before).toBeLessThanOrEqual(300 / 10 + 5);
    leased.close();
  });

  it('refill ahead (the default): a spend that leaves half the batch takes the next batch + 1 in the background, no caller waiting for it', async () => {
    const a = await proc();
    const leased = a.leasedRateStore(unique('ahead'), { batch: 4, holdMs: 60_000 });
    const policy = { algorithm: 'gcra', rate: 100_000, burst: 10_000 } as const;
    const l = new KeyedRateLimiter({ policy, store: leased });
    expect((await l.admit({ key: 'k' })).ok).toBe(true); // took 1 + 4, holds 4
    const sent = a.guard.stats().sent;
    // Two admissions from held tokens, synchronous to the store: 2 left, half the batch.
    for (let i = 0; i < 2; i++) expect((await l.admit({ key: 'k' })).ok).toBe(true);
    // Nobody asks, yet the next 5 come: 2 + 5 held.
    const deadline = Date.now() + 5_000;
    while (leased.held < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(leased.held).toBe(7);
    expect(a.guard.stats().sent - sent).toBe(1);
    leased.close();
  });

  it("leasedRateStore's refillAt: an integer >= 0 or false, else an error naming it", async () => {
    const a = await proc();
    for (const bad of [-1, 1.5, 'half', true]) expect(() => a.leasedRateStore(unique('bad'), { refillAt: bad as never })).toThrow(/refillAt.*an integer >= 0, or false/);
    a.leasedRateStore(unique('off'), { refillAt: false }).close();
    a.leasedRateStore(unique('zero'), { refillAt: 0 }).close();
  });

  it('tokens held and unspent go back to the bucket after holdMs', async () => {
    const name = unique('back');
    const a = await proc();
    const policy = { algorithm: 'token-bucket', rate: 1, perMs: 60_000, burst: 10 } as const;
    const leased = a.leasedRateStore(name, { batch: 5, holdMs: 30 });
    const l = new KeyedRateLimiter({ policy, store: leased });
    expect((await l.admit({ key: 'k' })).ok).toBe(true); // took 1 + 5
    const per = a.rateStore(name);
    const probe = async (): Promise<number> => (await per.consume('k', (l.policy as never), 1, 0, 0)).facts.remaining;
    expect(await probe()).toBeLessThanOrEqual(3); // 10 − 6 − this probe's 1
    await new Promise((r) => setTimeout(r, 150));
    expect(await probe()).toBeGreaterThanOrEqual(6); // the 5 unspent came back
    leased.close();
  });

  it('slots leased in batches by SlotLease over RedisLimitStore: two processes, limit 4, never more than 4 in flight', async () => {
    const name = unique('slots');
    const [a, b] = [await proc(), await proc()];
    const la = a.limitStore({ leaseTtlMs: 2000 });
    const lb = b.limitStore({ leaseTtlMs: 2000 });
    const ga = new ConcurrencyGate({ limit: 4, maxQueue: 100 });
    const gb = new ConcurrencyGate({ limit: 4, maxQueue: 100 });
    const sa = new SlotLease(ga, la, { name, limit: 4, initial: 2, batch: 1, tickMs: 5 });
    const sb = new SlotLease(gb, lb, { name, limit: 4, initial: 2, batch: 1, tickMs: 5 });
    await Promise.all([sa.start(), sb.start()]);
    expect(await peakHeld([ga, gb], 30)).toBeLessThanOrEqual(4);
    expect(await rawClient().zcard(`${keyPrefix()}{${name}}:leases`)).toBeLessThanOrEqual(4);
    await Promise.all([sa.stop(), sb.stop(), la.close(), lb.close()]);
    expect(await rawClient().zcard(`${keyPrefix()}{${name}}:leases`)).toBe(0);
  });

  it('lease data lost (the limit\'s keys deleted, as by FLUSHALL): the next call of a holder fences the limit until every holder put its leases back', async () => {
    const name = unique('fence');
    const [a, b] = [await proc(), await proc()];
    const [la, lb] = [a.limitStore({ leaseTtlMs: 2000 }), b.limitStore({ leaseTtlMs: 2000 })];
    expect((await la.takeSlots(name, 4, 4)).granted).toBe(4);
    expect((await lb.takeSlots(name, 4, 1)).granted).toBe(0); // full; b has called: it knows the epoch
    const tag = `${keyPrefix()}{${name}}`;
    await rawClient().del(`${tag}:leases`, `${tag}:want`, `${tag}:epoch`);
    // b's call proves the loss: granted nothing though Redis counts no lease (before the fence: 1).
    expect(await lb.takeSlots(name, 4, 1)).toMatchObject({ granted: 0 });
    // a learns its epoch is gone and puts its 4 leases back.
    expect(await la.takeSlots(name, 4, 1)).toMatchObject({ granted: 0, held: 4 });
    expect(await rawClient().zcard(`${tag}:leases`)).toBe(4);
    // After the fence (a TTL): the limit is full, as it was; a's give-back is b's.
    await new Promise((r) => setTimeout(r, 2100));
    expect((await lb.takeSlots(name, 4, 1)).granted).toBe(0);
    await la.returnSlots(name, 4);
    expect((await lb.takeSlots(name, 4, 4)).granted).toBe(4);
    await Promise.all([la.close(), lb.close()]);
  });

  it('leases lost while Redis forgot them (others took the slots first): SlotLease stops admitting on them', async () => {
    const name = unique('lost');
    const a = await proc();
    const store = a.limitStore({ leaseTtlMs: 300 });
    const gate = new ConcurrencyGate({ limit: 4 });
    const errors: string[] = [];
    const lease = new SlotLease(gate, store, { name, limit: 4, initial: 4, batch: 1, tickMs: 5, onError: (e) => errors.push(String(e)) });
    await lease.start();
    expect([lease.held, gate.limit]).toEqual([4, 4]);
    // As after a Redis restart without persistence where another holder leased all 4 before this one renewed.
    const key = `${keyPrefix()}{${name}}:leases`;
    // In one step: a renewal between a DEL and a ZADD would put this holder's 4 back first.
    await rawClient().multi().del(key).zadd(key, 1e15, 'other#1', 1e15, 'other#2', 1e15, 'other#3', 1e15, 'other#4').exec();
    const deadline = Date.now() + 5_000;
    while (lease.held > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lease.held).toBe(0);
    expect(errors.some((e) => /4 leased slots of .* were lost/.test(e))).toBe(true);
    // Nothing more is admitted on slots others hold now: the gate's one slot is the lease's ballast.
    const r = gate.tryAdmit();
    expect(r.ok ? 'admitted' : r.reason).toBe('concurrency');
    await rawClient().del(key);
    await Promise.all([lease.stop(), store.close()]);
  });
});
