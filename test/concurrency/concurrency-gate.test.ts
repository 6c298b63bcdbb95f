import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, flushMicrotasks, InvalidArgumentError, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { Admission, GateEvent, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

describe('ConcurrencyGate', () => {
  it('admits up to the limit and rejects beyond it without a queue', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 2, clock });
    const a = permit(gate.admit());
    permit(gate.admit());
    const r = gate.admit();
    expect(r).toMatchObject({ ok: false, reason: 'concurrency', gate: 'concurrency' });
    a.release();
    expect(gate.admit()).toMatchObject({ ok: true });
    expect(gate.stats()).toMatchObject({ inFlight: 2, limit: 2, admitted: 3, released: 1, rejected: { concurrency: 1 } });
  });

  it('releasing twice is a no-op, never a double count', () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    const p = permit(gate.admit());
    p.release();
    p.release('failure');
    expect(gate.stats()).toMatchObject({ inFlight: 0, released: 1 });
    permit(gate.admit());
    expect(gate.admit()).toMatchObject({ ok: false });
  });

  it('queues waiters FIFO and grants them as permits are released', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 2, clock });
    const first = permit(gate.admit());
    const order: string[] = [];
    const b = gate.acquire({ key: 'b' }).then((p) => (order.push('b'), p));
    const c = gate.acquire({ key: 'c' }).then((p) => (order.push('c'), p));
    await expect(gate.acquire()).rejects.toMatchObject({ code: 'SLUICE_ERR_REJECTED', reason: 'queue_full' });
    expect(gate.stats().queued).toBe(2);
    clock.advance(10);
    first.release();
    (await b).release();
    (await c).release();
    expect(order).toEqual(['b', 'c']);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('LIFO serves the newest waiter first', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 3, discipline: 'lifo', clock: new VirtualClock() });
    const first = permit(gate.admit());
    const order: number[] = [];
    const ps = [1, 2, 3].map((i) => gate.acquire().then((p) => (order.push(i), p.release())));
    first.release();
    await Promise.all(ps);
    expect(order).toEqual([3, 2, 1]);
  });

  it('priority discipline serves higher priority first, and aging prevents starvation', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, discipline: { type: 'priority', agingMs: 100 }, clock });
    let held = permit(gate.admit());
    const order: string[] = [];
    const low = gate.acquire({ priority: 0 }).then((p) => (order.push('low'), p));
    clock.advance(50);
    const high1 = gate.acquire({ priority: 1 }).then((p) => (order.push('high1'), p));
    clock.advance(100); // low has now aged past anything of priority 1 arriving later than t=100
    const high2 = gate.acquire({ priority: 1 }).then((p) => (order.push('high2'), p));
    held.release();
    held = await high1;
    held.release();
    held = await low;
    held.release();
    (await high2).release();
    expect(order).toEqual(['high1', 'low', 'high2']);
  });

  it('a deadline removes the waiter at once with queue_timeout and clears its timer', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock });
    const held = permit(gate.admit());
    const waiting = gate.admit({ maxWaitMs: 50 });
    expect(clock.pendingTimers).toBe(1);
    clock.advance(49);
    expect(gate.stats().queued).toBe(1);
    clock.advance(1);
    await expect(waiting).resolves.toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(gate.stats().queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    held.release();
    expect(gate.stats().inFlight).toBe(0); // no late grant
  });

  it('an expired deadline is rejected immediately without queueing', () => {
    const clock = new VirtualClock(1000);
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock });
    permit(gate.admit());
    expect(gate.admit({ deadline: 1000 })).toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(gate.stats().queued).toBe(0);
  });

  it('abort removes the waiter at once and never grants it later', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, maxWaitMs: 1000, clock });
    const held = permit(gate.admit());
    const ac = new AbortController();
    const waiting = gate.acquire({ signal: ac.signal });
    ac.abort(new Error('client went away'));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await waiting.catch((e: AbortedError) => expect((e.cause as Error).message).toBe('client went away'));
    expect(gate.stats().queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    held.release();
    expect(gate.stats().inFlight).toBe(0);
  });

  it('an already-aborted signal is refused without queueing', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock: new VirtualClock() });
    permit(gate.admit());
    await expect(gate.acquire({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(gate.stats().queued).toBe(0);
  });

  it('close settles every waiter with ClosedError and refuses later calls', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock: new VirtualClock() });
    const held = permit(gate.admit());
    const w1 = gate.acquire();
    const w2 = gate.admit();
    gate.close();
    await expect(w1).rejects.toBeInstanceOf(ClosedError);
    await expect(w2).resolves.toMatchObject({ ok: false, reason: 'closed', retryAfterMs: Infinity });
    await expect(gate.acquire()).rejects.toBeInstanceOf(ClosedError);
    held.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, closed: true });
  });

  it('weighted costs consume several slots; cost above the limit can never be admitted', async () => {
    const gate = new ConcurrencyGate({ limit: 4, maxQueue: 2, clock: new VirtualClock() });
    const big = permit(gate.admit({ cost: 3 }));
    expect(gate.admit({ cost: 2, maxWaitMs: 0 })).toMatchObject({ ok: false, reason: 'queue_timeout' });
    const pending = gate.acquire({ cost: 2 });
    big.release();
    (await pending).release();
    expect(gate.admit({ cost: 5 })).toMatchObject({ ok: false, reason: 'concurrency', retryAfterMs: Infinity });
  });

  it('setLimit raises capacity at once and lowers it as permits are released', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock: new VirtualClock() });
    const a = permit(gate.admit());
    const b = gate.acquire();
    gate.setLimit(2);
    const pb = await b;
    expect(gate.stats().inFlight).toBe(2);
    gate.setLimit(1);
    a.release();
    expect(gate.admit({ maxWaitMs: 0 })).toMatchObject({ ok: false }); // still 1 in flight == new limit
    pb.release();
    expect(gate.admit()).toMatchObject({ ok: true });
  });

  it('retryAfterMs estimates the queue drain from observed latency', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 2, clock });
    const a = permit(gate.admit());
    clock.advance(100);
    a.release();
    permit(gate.admit());
    permit(gate.admit());
    const r = gate.admit();
    expect(r).toMatchObject({ ok: false, retryAfterMs: 50 }); // 100 ms x 1 / 2
  });

  it('CoDel sheds a standing queue but not a burst that drains within the interval', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 1000, discipline: 'codel', clock });
    // Burst: 5 waiters, served every 2 ms -> max sojourn 10 ms < interval: nobody shed.
    let held = permit(gate.admit());
    const results = Array.from({ length: 5 }, () => gate.admit());
    for (let i = 0; i < 5; i++) {
      clock.advance(2);
      held.release();
      const r = await results[i]!;
      expect(r.ok).toBe(true);
      if (r.ok) held = r;
    }
    held.release();
    // Standing queue: 200 waiters, 10 ms service each -> sojourn grows far past target for > interval.
    const granted: Permit[] = [permit(gate.admit())];
    let shed = 0;
    let settled = 0;
    for (let i = 0; i < 200; i++) {
      void (gate.admit() as Promise<Admission>).then((r) => {
        settled++;
        if (r.ok) granted.push(r);
        else shed++;
      });
    }
    let released = 0;
    while (settled < 200) {
      clock.advance(10);
      granted[released++]!.release();
      await flushMicrotasks();
    }
    expect(shed).toBeGreaterThan(0);
    expect(shed).toBeLessThan(200);
    expect(granted.length - 1 + shed).toBe(200);
    expect(gate.stats().dropped).toBe(shed);
    expect(gate.stats().rejected.shed).toBe(shed);
  });

  it('partitions: each gets its guaranteed share under contention, and bursts when others are idle', async () => {
    const gate = new ConcurrencyGate({
      limit: 10,
      maxQueue: 100,
      partitions: { live: { share: 0.7 }, batch: { share: 0.3 } },
      clock: new VirtualClock(),
    });
    // batch alone may use all 10 slots
    const batch = Array.from({ length: 10 }, () => permit(gate.admit({ partition: 'batch' })));
    expect(gate.admit({ partition: 'batch', maxWaitMs: 0 })).toMatchObject({ ok: false });
    // live arrives: queued, and released batch slots go to live until live has its 7
    const live = Array.from({ length: 8 }, () => gate.acquire({ partition: 'live' }));
    const moreBatch = gate.acquire({ partition: 'batch' });
    for (let i = 0; i < 7; i++) batch[i]!.release();
    const livePermits = await Promise.all(live.slice(0, 7));
    expect(gate.partitionStats()).toEqual([
      { name: 'live', share: 0.7, guarantee: 7, inFlight: 7, queued: 1 },
      { name: 'batch', share: 0.3, guarantee: 3, inFlight: 3, queued: 1 },
    ]);
    expect(gate.stats().inFlight).toBe(10);
    livePermits[0]!.release();
    // live is at its guarantee (6 < 7): it is served before batch
    const eighth = await live[7]!;
    eighth.release();
    (await moreBatch).release();
    for (const p of [...livePermits, ...batch]) p.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('validates options and arguments with messages that name them', () => {
    expect(() => new ConcurrencyGate({ limit: 0 })).toThrow(InvalidOptionError);
    expect(() => new ConcurrencyGate({ limit: 0 })).toThrow('limit: expected an integer >= 1, received 0');
    expect(() => new ConcurrencyGate({ limit: 1.5 })).toThrow('limit: expected an integer >= 1, received 1.5');
    expect(() => new ConcurrencyGate({ limit: 2, maxWaitMs: 10 })).toThrow('maxWaitMs: expected maxQueue >= 1 (a wait needs a queue), received 10');
    expect(() => new ConcurrencyGate({ limit: 2, discipline: 'random' as never })).toThrow('discipline: expected one of "fifo", "lifo", "codel", "priority", received "random"');
    expect(() => new ConcurrencyGate({ limit: 2, partitions: { a: { share: 0.8 }, b: { share: 0.5 } } })).toThrow('partitions: expected shares that sum to <= 1, received 1.3');
    expect(() => new ConcurrencyGate({ limit: 2, partitions: { a: { share: 1 } }, defaultPartition: 'b' })).toThrow('defaultPartition: expected one of a, received "b"');
    const gate = new ConcurrencyGate({ limit: 2, partitions: { a: { share: 1 } } });
    expect(() => gate.admit({ cost: 0 })).toThrow(InvalidArgumentError);
    expect(() => gate.admit({ cost: 0 })).toThrow('cost: expected a number >= 1, received 0');
    expect(() => gate.admit({ priority: Number.NaN })).toThrow('priority: expected a finite number, received NaN');
    expect(() => gate.admit({ partition: 'zzz' })).toThrow('partition: expected one of a, received "zzz"');
    expect(gate.stats().inFlight).toBe(0);
  });

  it('emits one event per decision to listeners', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ name: 'db', limit: 1, clock });
    const events: GateEvent[] = [];
    const off = gate.on((e) => events.push(e));
    const p = permit(gate.admit({ key: 't1' }));
    void gate.admit({ key: 't2' });
    clock.advance(7);
    p.release();
    off();
    void gate.admit();
    expect(events.map((e) => e.type)).toEqual(['admit', 'reject', 'release']);
    expect(events[1]).toMatchObject({ gate: 'db', kind: 'concurrency', reason: 'concurrency', key: 't2' });
    expect(events[2]).toMatchObject({ outcome: 'success', latencyMs: 7 });
  });

  it('acquire turns a rejection into a RejectedError with the same fields', async () => {
    const gate = new ConcurrencyGate({ name: 'pool', limit: 1, clock: new VirtualClock() });
    permit(gate.admit());
    const err = await gate.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ name: 'RejectedError', code: 'SLUICE_ERR_REJECTED', reason: 'concurrency', gate: 'pool', retryAfterMs: 1 });
  });
  it('storeUnavailable: refuses callers and the queued waiters store_unavailable with its retryAfterMs; permits in flight stay valid; undefined admits again', async () => {
    const gate = new ConcurrencyGate({ name: 'leased', limit: 1, maxQueue: 5 });
    const first = gate.tryAdmit();
    if (!first.ok) throw new Error('refused');
    const waiting = gate.admit();
    gate.storeUnavailable(500);
    const waiter = await waiting;
    expect(waiter.ok ? undefined : [waiter.reason, waiter.retryAfterMs]).toEqual(['store_unavailable', 500]);
    const later = await gate.admit();
    expect(later.ok ? undefined : later.reason).toBe('store_unavailable');
    expect(gate.stats().rejected.store_unavailable).toBe(2);
    first.release();
    expect(gate.inFlight).toBe(0);
    gate.storeUnavailable(undefined);
    const again = await gate.admit();
    expect(again.ok).toBe(true);
  });

  it('storeUnavailable: no early refusal under another reason first (a policy asks earlyRefusal before its rate limits)', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ name: 'early', limit: 1, maxQueue: 5, maxWaitMs: 100, refuseEarly: true, clock });
    const held = gate.tryAdmit();
    if (!held.ok) throw new Error('refused');
    clock.advance(1_000); // a service time of 1 s: any wait would be refused early
    held.release();
    const busy = gate.tryAdmit();
    if (!busy.ok) throw new Error('refused');
    expect(gate.earlyRefusal()?.reason).toBe('queue_timeout');
    gate.storeUnavailable(500);
    expect(gate.earlyRefusal()).toBeUndefined();
    const r = await gate.admit();
    expect(r.ok ? undefined : r.reason).toBe('store_unavailable');
    busy.release();
  });
});
