/**
 * Random interleavings of put / tryPut / take / tryTake / iterator next & return / abort /
 * clock advance / close / closeNow, on random configurations. Checks:
 *  (a) size never exceeds capacity (and takes wait only on an empty buffer, puts block only on a full one);
 *  (b) every item put is exactly one of: taken, dropped (reported), rejected to its putter,
 *      or returned undelivered by closeNow — none lost, none duplicated;
 *  (c) after close() and runAll every promise has settled and no timer is left;
 *  (d) under FIFO, items reach takes in put order.
 * Waits may share an AbortSignal (`shared`: reuse the newest controller): then, too, each waiter
 * settles once, and after close no 'abort' listener is left on any signal.
 */
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { DisciplineOption } from '../../src/discipline/index.js';
import { Channel } from '../../src/queue/index.js';
import type { ChannelOptions, OverflowStrategy } from '../../src/queue/index.js';
import { settle } from './helpers.js';

type Op =
  | { t: 'put'; wait: number | undefined; signal: boolean; shared: boolean; prio: number }
  | { t: 'tryPut'; prio: number }
  | { t: 'take'; wait: number | undefined; signal: boolean; shared: boolean }
  | { t: 'tryTake' }
  | { t: 'next' }
  | { t: 'return' }
  | { t: 'abort'; k: number }
  | { t: 'advance'; ms: number }
  | { t: 'flush' }
  | { t: 'close' }
  | { t: 'closeNow' };

const wait = fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined });
const prio = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('put' as const), wait, signal: fc.boolean(), shared: fc.boolean(), prio }), weight: 6 },
  { arbitrary: fc.record({ t: fc.constant('tryPut' as const), prio }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('take' as const), wait, signal: fc.boolean(), shared: fc.boolean() }), weight: 4 },
  { arbitrary: fc.constant({ t: 'tryTake' as const }), weight: 2 },
  { arbitrary: fc.constant({ t: 'next' as const }), weight: 2 },
  { arbitrary: fc.constant({ t: 'return' as const }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('abort' as const), k: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15 }) }), weight: 3 },
  { arbitrary: fc.constant({ t: 'flush' as const }), weight: 2 },
  { arbitrary: fc.constant({ t: 'close' as const }), weight: 1 },
  { arbitrary: fc.constant({ t: 'closeNow' as const }), weight: 1 },
);

const disciplines: DisciplineOption[] = ['fifo', 'lifo', 'priority', { type: 'priority', agingMs: 3 }, { type: 'codel', targetMs: 2, intervalMs: 5 }];
interface Config {
  capacity: number;
  overflow: OverflowStrategy;
  discipline: DisciplineOption;
  maxPutWaitMs: number | undefined;
  seed: number;
}

const configArb: fc.Arbitrary<Config> = fc.record({
  capacity: fc.integer({ min: 1, max: 4 }),
  overflow: fc.constantFrom<OverflowStrategy>('block', 'drop-newest', 'drop-oldest', 'drop-random', 'reject'),
  discipline: fc.constantFrom(...disciplines),
  maxPutWaitMs: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  seed: fc.integer(),
});

type Label = 'taken' | 'dropped' | 'rejected' | 'undelivered';

async function run(config: Config, ops: Op[]): Promise<void> {
  const clock = new VirtualClock();
  const labels = new Map<number, Label[]>();
  const putResult = new Map<number, 'accepted' | 'dropped'>();
  const mark = (id: number, l: Label) => labels.set(id, [...(labels.get(id) ?? []), l]);
  let seed = config.seed | 0;
  const options: ChannelOptions<number> = {
    capacity: config.capacity,
    overflow: config.overflow,
    discipline: config.discipline,
    clock,
    onDrop: (id) => mark(id, 'dropped'),
    ...(config.overflow === 'block' && config.maxPutWaitMs !== undefined ? { maxPutWaitMs: config.maxPutWaitMs } : {}),
    ...(config.overflow === 'drop-random' ? { random: () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32 } : {}),
  };
  const ch = new Channel<number>(options);
  const pending: { settled: boolean }[] = [];
  const track = <T>(p: Promise<T>, onValue: (v: T) => void, onError: (e: unknown) => void = () => {}) => {
    const s = { settled: false };
    pending.push(s);
    p.then(
      (v) => {
        s.settled = true;
        onValue(v);
      },
      (e: unknown) => {
        s.settled = true;
        onError(e);
      },
    );
  };
  const controllers: AbortController[] = [];
  const ctx = (w: number | undefined, signal: boolean, shared: boolean) => {
    const c: { maxWaitMs?: number; signal?: AbortSignal } = {};
    if (w !== undefined) c.maxWaitMs = w;
    if (signal && shared && controllers.length > 0) {
      c.signal = controllers[controllers.length - 1]!.signal;
    } else if (signal) {
      const ac = new AbortController();
      controllers.push(ac);
      c.signal = ac.signal;
    }
    return c;
  };
  // Order check under FIFO: items by the order of the take calls that received them.
  const receivedBy: [number, number][] = [];
  let takeCall = 0;
  let iterator = ch.values();
  let nextId = 0;

  const checkInvariants = () => {
    const s = ch.stats();
    expect(s.size).toBeLessThanOrEqual(config.capacity);
    if (s.waitingTakes > 0) expect(s.size).toBe(0);
    if (s.blockedPuts > 0) expect(s.size).toBe(config.capacity);
  };

  for (const op of ops) {
    switch (op.t) {
      case 'put': {
        const id = nextId++;
        track(
          ch.put(id, { priority: op.prio, ...ctx(op.wait, op.signal, op.shared) }),
          (r) => putResult.set(id, r),
          () => mark(id, 'rejected'),
        );
        break;
      }
      case 'tryPut': {
        const id = nextId++;
        const r = ch.tryPut(id, { priority: op.prio });
        if (typeof r === 'string') putResult.set(id, r);
        else mark(id, 'rejected');
        break;
      }
      case 'take': {
        const call = takeCall++;
        track(ch.take(ctx(op.wait, op.signal, op.shared)), (v) => {
          mark(v, 'taken');
          receivedBy.push([call, v]);
        });
        break;
      }
      case 'tryTake': {
        const r = ch.tryTake();
        if (r.ok) {
          mark(r.value, 'taken');
          receivedBy.push([takeCall++, r.value]);
        }
        break;
      }
      case 'next': {
        const call = takeCall++;
        track(iterator.next(), (r) => {
          if (r.done !== true) {
            mark(r.value, 'taken');
            receivedBy.push([call, r.value]);
          }
        });
        break;
      }
      case 'return':
        track(iterator.return(), () => {});
        iterator = ch.values();
        break;
      case 'abort':
        if (controllers.length > 0) controllers[op.k % controllers.length]!.abort();
        break;
      case 'advance':
        clock.advance(op.ms);
        break;
      case 'flush':
        await settle();
        break;
      case 'close':
        ch.close();
        break;
      case 'closeNow':
        for (const id of ch.closeNow()) mark(id, 'undelivered');
        break;
    }
    checkInvariants();
  }

  // (c) close() alone settles every waiter: blocked puts are rejected, and takes wait only on
  // an empty buffer, so they settle done. No timer is left even before time moves.
  ch.close();
  expect(clock.pendingTimers).toBe(0);
  await clock.runAll();
  await settle();
  expect(pending.filter((p) => !p.settled)).toEqual([]);
  for (const ac of controllers) expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  for (const id of ch.closeNow()) mark(id, 'undelivered');

  // (b) exactly one fate per item, consistent with what its putter was told.
  for (let id = 0; id < nextId; id++) {
    const l = labels.get(id) ?? [];
    expect(l, `item ${id}`).toHaveLength(1);
    const told = putResult.get(id);
    if (told === 'dropped') expect(l[0]).toBe('dropped');
    if (told === 'accepted') expect(l[0]).not.toBe('rejected');
    if (told === undefined) expect(l[0]).toBe('rejected');
  }
  const count = (x: Label) => [...labels.values()].filter((l) => l[0] === x).length;
  const s = ch.stats();
  expect(s.dropped).toBe(count('dropped'));
  expect(s.taken).toBe(count('taken'));
  expect(s.undelivered).toBe(count('undelivered'));
  expect(s.admitted).toBe([...putResult.values()].filter((r) => r === 'accepted').length);

  // (d) FIFO: a freed slot and an arriving item always go to the earliest waiter.
  if (config.discipline === 'fifo') {
    const order = receivedBy.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
  }
}

describe('Channel under random interleavings', () => {
  it('never exceeds capacity, accounts for every item exactly once, settles everything', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (config, ops) => run(config, ops)),
      { numRuns: 400 },
    );
    // 400 interleavings on the virtual clock: seconds of CPU, which beside CPU hogs took past the
    // default 20 s. The timeout only guards against a hang; the runs are counted, not timed.
  }, 120_000);
});
