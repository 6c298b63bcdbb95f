// A bad day for the Redis Streams consumer: handlers slower than claimIdleMs (its own claim and
// a peer's), connections killed from the server mid-stream. Against a redis-server of the
// test's own (CLIENT KILL there touches nobody else), stopped by PID.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError, LeaseLostError } from '../../src/brokers/index.js';
import { InvalidArgumentError } from '../../src/core/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { unique, until } from '../brokers/services.js';
import { stopMidBurst } from './stop-burst.js';
import { haveRedisServer, OwnRedis } from '../redis/servers.js';

const can = haveRedisServer();
const text = (d: Delivery): string => Buffer.from(d.body).toString();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('redis-streams: a bad day', () => {
  let own: OwnRedis;
  let r: Redis;
  beforeAll(async () => {
    own = await OwnRedis.start();
    r = new Redis(own.url);
  });
  afterAll(async () => {
    r?.disconnect();
    await own?.dispose();
  });
  const open = (stream: string, consumer: string): Promise<RedisStreamsSource> => RedisStreamsSource.open({ url: own.url, stream, group: 'workers', consumer, claimIdleMs: 300, blockMs: 100 });
  const pending = async (stream: string): Promise<number> => ((await r.xpending(stream, 'workers')) as [number])[0];
  /** An entry past Lua's ~8,000 values of one call (4,100 headers besides the body): its copy cannot be one XADD in a script. */
  const WIDE: string[] = ['body', 'w'];
  for (let i = 0; i < 4100; i++) WIDE.push(`h${i}`, 'v');
  /** Pull `n` entries into deliveries of `source` (the first pull of a fresh group). */
  const take = async (source: RedisStreamsSource, n: number): Promise<Delivery[]> => {
    const got: Delivery[] = [];
    await source.pull(n, (d) => got.push(d), new AbortController().signal);
    expect(got).toHaveLength(n);
    return got;
  };
  const notPending = (source: RedisStreamsSource, d: Delivery, what: string): string => `${source.name}: ${what} of entry ${d.id} failed: it is no longer pending in the group (acked by a consumer that claimed it, or lost by the server)`;
  /** A peer ('b') takes each over (their handler outlasted claimIdleMs) and acks it. */
  const peerAcks = async (stream: string, got: Delivery[]): Promise<void> => {
    for (const d of got) {
      await r.xclaim(stream, 'workers', 'b', 0, d.id, 'JUSTID');
      expect(await r.xack(stream, 'workers', d.id)).toBe(1);
    }
  };

  it('a handler that outlasts claimIdleMs is not handed its own message a second time by its own claim', async () => {
    const stream = unique('self-claim');
    await r.xadd(stream, '*', 'body', 'slow');
    const source = await open(stream, 'only');
    const calls: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    // Two slots: while one handler holds the entry, the other keeps pulling (XAUTOCLAIM, then XREADGROUP).
    const c = new BrokerConsumer(source, (d) => {
      calls.push(d.attempt);
      return calls.length === 1 ? gate : undefined;
    }, { concurrency: 2 });
    try {
      expect(await until(() => calls.length === 1)).toBe(true);
      await sleep(1500); // five times claimIdleMs, with the free slot pulling all along
      release();
      expect(await until(() => c.stats().acked >= 1)).toBe(true);
      expect(await until(async () => (await pending(stream)) === 0)).toBe(true);
      expect(calls).toEqual([1]);
      expect(c.stats()).toMatchObject({ received: 1, acked: 1, failed: 0, held: 0 });
    } finally {
      release();
      await c.stop();
      await r.del(stream);
    }
  });

  it('extendEveryMs keeps a long handler\'s entry from a peer\'s claim; once settled, nothing is left pending', async () => {
    const stream = unique('extend');
    await r.xadd(stream, '*', 'body', 'long');
    const a = await open(stream, 'a');
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const seenByA: string[] = [];
    const ca = new BrokerConsumer(a, (d) => {
      seenByA.push(text(d));
      return gate;
    }, { extendEveryMs: 100 });
    const seenByB: string[] = [];
    let cb: BrokerConsumer | undefined;
    try {
      expect(await until(() => seenByA.length === 1)).toBe(true);
      cb = new BrokerConsumer(await open(stream, 'b'), (d) => void seenByB.push(text(d)));
      await sleep(1500); // the peer pulls (XAUTOCLAIM of entries idle 300 ms) all along
      expect(seenByB).toEqual([]);
      release();
      expect(await until(() => ca.stats().acked === 1)).toBe(true);
      expect(await until(async () => (await pending(stream)) === 0)).toBe(true);
      expect(seenByA).toEqual(['long']);
    } finally {
      release();
      await ca.stop();
      await cb?.stop();
      await r.del(stream);
    }
  });

  it('extend leaves alone an entry a peer has taken over, and says so (LeaseLostError naming the new owner)', async () => {
    const stream = unique('extend-lost');
    await r.xadd(stream, '*', 'body', 'm');
    const a = await open(stream, 'a');
    const got: Delivery[] = [];
    await a.pull(1, (d) => got.push(d), new AbortController().signal);
    expect(got).toHaveLength(1);
    await r.xclaim(stream, 'workers', 'b', 0, got[0]!.id, 'JUSTID'); // b took it over
    // Since 80a2946 a lost lease is told (the handler's signal aborts on it), no longer a silent no-op.
    await expect(got[0]!.extend()).rejects.toSatisfy((e) => e instanceof LeaseLostError && /claimed by "b"/.test(e.message));
    const row = (await r.xpending(stream, 'workers', '-', '+', 10)) as [string, string, number, number][];
    expect(row.map(([id, consumer]) => [id, consumer])).toEqual([[got[0]!.id, 'b']]);
    await a.close();
    await r.del(stream);
  });

  it('an entry a peer claimed and acked: this consumer\'s late ack or retry rejects, naming the entry, instead of reading as done twice', async () => {
    const stream = unique('peer-acked');
    await r.xadd(stream, '*', 'body', 'a');
    await r.xadd(stream, '*', 'body', 'b');
    const a = await open(stream, 'a');
    const got = await take(a, 2);
    await peerAcks(stream, got);
    // Before: both resolved (XACK answered 0; XCLAIM claimed nothing).
    await expect(got[0]!.ack()).rejects.toThrow(notPending(a, got[0]!, 'ack'));
    await expect(got[1]!.retry(0, 'boom')).rejects.toThrow(notPending(a, got[1]!, 'retry'));
    expect(await pending(stream)).toBe(0);
    await a.close();
    await r.del(stream);
  });

  it('an entry a peer claimed and acked: this consumer\'s late dead letter rejects, naming the entry, and copies nothing to the dead stream', async () => {
    const stream = unique('peer-acked-dead');
    await r.xadd(stream, '*', 'body', 'a');
    await r.xadd(stream, '*', ...WIDE);
    const a = await open(stream, 'a');
    const got = await take(a, 2);
    await peerAcks(stream, got);
    // Before: both resolved (XACK's 0 in the MULTI ignored) and each left a copy in the dead stream.
    for (const d of got) await expect(d.deadLetter('boom')).rejects.toThrow(notPending(a, d, 'dead letter'));
    expect(await r.xlen(`${stream}:dead`)).toBe(0);
    await a.close();
    await r.del(stream);
  });

  it('a dead letter the server refuses (the dead stream\'s key holds a string): a settle error, the entry still pending — not acked and lost', async () => {
    const stream = unique('dead-wrongtype');
    await r.xadd(stream, '*', 'body', 'a');
    await r.xadd(stream, '*', ...WIDE);
    await r.set(`${stream}:dead`, 'not a stream');
    const a = await open(stream, 'a');
    const got = await take(a, 2);
    // Before: resolved, the original acked by the MULTI while its XADD failed (WRONGTYPE): the message was gone.
    for (const d of got) await expect(d.deadLetter('boom')).rejects.toThrow(/WRONGTYPE/);
    expect(await pending(stream)).toBe(2);
    await a.close();
    await r.del(`${stream}:dead`);
    // With the key freed, a peer claims both (idle past claimIdleMs): their copies go through, every field kept, and the entries are acked.
    const b = await open(stream, 'b');
    const again: Delivery[] = [];
    expect(await until(async () => (await b.pull(2, (d) => again.push(d), new AbortController().signal), again.length === 2))).toBe(true);
    for (const d of again) await d.deadLetter('boom');
    expect(await pending(stream)).toBe(0);
    const dead = (await r.xrange(`${stream}:dead`, '-', '+')).map(([, f]) => f);
    expect(dead.map((f) => f.length)).toEqual([2 + 6, WIDE.length + 6]);
    expect(dead[1]!.slice(0, 4)).toEqual(['body', 'w', 'h0', 'v']);
    await b.close();
    await r.del(stream, `${stream}:dead`);
  });

  it('on a Redis Cluster node, a stream with a hash tag dead-letters into `<stream>:dead` (one slot); without one the script is refused (CROSSSLOT) and the entry stays pending', async () => {
    const node = await OwnRedis.start(['--cluster-enabled', 'yes']);
    const n = new Redis(node.url);
    try {
      await n.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383'); // one node owning every slot: multi-key commands still checked per slot
      expect(await until(async () => String(await n.call('CLUSTER', 'INFO')).includes('cluster_state:ok'))).toBe(true);
      for (const stream of ['{orders}s', 'orders']) {
        await n.xadd(stream, '*', 'body', 'n');
        await n.xadd(stream, '*', ...WIDE);
        const source = await RedisStreamsSource.open({ url: node.url, stream, group: 'workers', consumer: 'c', claimIdleMs: 300, blockMs: 100 });
        const got = await take(source, 2);
        if (stream === 'orders') {
          // The script names both keys; the widest entries go command by command, one key each.
          await expect(got[0]!.deadLetter('boom')).rejects.toThrow(/CROSSSLOT/);
          expect(((await n.xpending(stream, 'workers')) as [number])[0]).toBe(2);
          expect(await n.exists(`${stream}:dead`)).toBe(0);
        } else {
          for (const d of got) await d.deadLetter('boom');
          expect(((await n.xpending(stream, 'workers')) as [number])[0]).toBe(0);
          expect(await n.xlen(`${stream}:dead`)).toBe(2);
        }
        await source.close();
      }
    } finally {
      n.disconnect();
      await node.dispose();
    }
  });

  it('stop() during a burst gives back what was taken and never handled: claimable at once, not after claimIdleMs', async () => {
    const stream = unique('burst');
    for (let i = 0; i < 60; i++) await r.xadd(stream, '*', 'body', `b${i}`);
    const slow = { url: own.url, stream, group: 'workers', claimIdleMs: 600_000, blockMs: 100 };
    const s = await stopMidBurst(await RedisStreamsSource.open({ ...slow, consumer: 'first' }));
    // A successor with a ten-minute claimIdleMs takes the released entries now (before: in ten minutes).
    const next = await RedisStreamsSource.open({ ...slow, consumer: 'second' });
    const got: Delivery[] = [];
    await next.pull(s.released, (d) => got.push(d), new AbortController().signal);
    await next.close();
    expect(got.length).toBe(s.released);
    expect(got.every((d) => d.attempt === 2)).toBe(true); // claimed (before: fresh entries read past them, attempt 1)
    await r.del(stream);
  });

  it('a message that kills its consumer: each death counts a delivery, and past maxAttempts it is dead-lettered without running the handler again', async () => {
    const stream = unique('killer');
    await r.xadd(stream, '*', 'body', 'killer');
    // Three consumers take it and die holding it (closed, never settled: what a crashed process leaves pending).
    for (const who of ['dead-1', 'dead-2', 'dead-3']) {
      const source = await open(stream, who);
      const got: Delivery[] = [];
      expect(await until(async () => (await source.pull(1, (d) => got.push(d), new AbortController().signal), got.length === 1))).toBe(true);
      await source.close();
    }
    const calls: string[] = [];
    const told: string[] = [];
    const c = new BrokerConsumer(await open(stream, 'next'), (d) => void calls.push(text(d)), { onFailure: { maxAttempts: 3 }, onError: (e) => told.push((e as Error).message) });
    try {
      expect(await until(() => c.stats().deadLettered === 1)).toBe(true);
      const reason = 'delivered 4 times, past onFailure.maxAttempts (3), and never settled: the consumers handling it died or lost their connection (a message that kills its process?)';
      expect(calls).toEqual([]); // the fourth consumer lives
      expect(told).toEqual([reason]);
      const dead = (await r.xrange(`${stream}:dead`, '-', '+')).map(([, f]) => f); // [field, value, ...]
      expect(dead).toHaveLength(1);
      expect(dead[0]).toEqual(['body', 'killer', 'sluice-error', reason, 'sluice-attempts', '4', 'sluice-source', expect.stringMatching(new RegExp(`^${stream}:`))]);
      expect(await pending(stream)).toBe(0);
      expect(c.stats()).toMatchObject({ received: 0, failed: 0, deadLettered: 1, held: 0 });
    } finally {
      await c.stop();
    }
  });

  it('pull(max) of 0, -1, NaN or 1.5 is an InvalidArgumentError naming max (not Redis\'s "COUNT must be > 0"), and Infinity is unbounded', async () => {
    const stream = unique('pull-max');
    for (const b of ['a', 'b', 'c']) await r.xadd(stream, '*', 'body', b);
    const source = await open(stream, 'only');
    try {
      for (const max of [0, -1, NaN, 1.5]) {
        const err = await source.pull(max, () => undefined, new AbortController().signal).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toBe(`max: expected an integer >= 1 (or Infinity: unbounded), received ${String(max)}`);
      }
      expect(await pending(stream)).toBe(0);
      const got: Delivery[] = [];
      await source.pull(Infinity, (d) => got.push(d), new AbortController().signal);
      expect(got.map(text)).toEqual(['a', 'b', 'c']);
    } finally {
      await source.close();
      await r.del(stream);
    }
  });

  it('connections killed from the server (CLIENT KILL) mid-stream: the client reconnects, every message is handled and acked', async () => {
    const stream = unique('kill');
    for (let i = 0; i < 30; i++) await r.xadd(stream, '*', 'body', `m${i}`);
    const seen = new Set<string>();
    const c = new BrokerConsumer(await open(stream, 'k'), async (d) => {
      seen.add(text(d));
      await sleep(20);
    }, { concurrency: 3 });
    try {
      expect(await until(() => seen.size >= 6)).toBe(true);
      expect(Number(await r.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'))).toBeGreaterThanOrEqual(2);
      expect(await until(() => seen.size === 30, 20_000)).toBe(true);
      expect(await until(async () => (await pending(stream)) === 0)).toBe(true);
    } finally {
      await c.stop();
      await r.del(stream);
    }
  });

  it('the server killed mid-batch and started again empty: the acks and retries of the handlers in flight fail (settleErrors), none reads acked or retried', async () => {
    const lost = await OwnRedis.start();
    const g = new Redis(lost.url);
    g.on('error', () => undefined);
    for (let i = 0; i < 6; i++) await g.xadd('s', '*', 'body', `m${i}`);
    const source = await RedisStreamsSource.open({ url: lost.url, stream: 's', group: 'workers', consumer: 'c', claimIdleMs: 300, blockMs: 100 });
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    // One of the three fails: its retry (XCLAIM ... IDLE) finds no group either (NOGROUP).
    const c = new BrokerConsumer(source, async (d) => {
      await gate;
      if (text(d) === 'm0') throw new Error('boom');
    }, { concurrency: 3 });
    c.done.catch(() => undefined);
    try {
      expect(await until(() => c.stats().inFlight === 3)).toBe(true);
      await lost.stop();
      await lost.start(); // same port, no persistence: the stream, its group and their pending entries are gone
      release();
      expect(await until(() => c.stats().held === 0, 20_000)).toBe(true);
      // Before: XACK of an entry the server no longer had answered 0 and read acked: 2.
      expect(c.stats()).toMatchObject({ received: 3, failed: 1, acked: 0, retried: 0, settleErrors: 3 });
    } finally {
      release();
      g.disconnect();
      await c.stop();
      await lost.dispose();
    }
  });

  it('the server killed, down for 2 s and started again empty: the consumer waits for it, recreates its group and handles what is added after; done stays pending', async () => {
    const lost = await OwnRedis.start();
    const g = new Redis(lost.url);
    g.on('error', () => undefined);
    await g.xadd('s', '*', 'body', 'before');
    const seen: string[] = [];
    // Two slots for one message at a time: a pull is waiting on the server while it dies.
    const c = new BrokerConsumer(await RedisStreamsSource.open({ url: lost.url, stream: 's', group: 'workers', consumer: 'c', claimIdleMs: 300, blockMs: 100 }), (d) => void seen.push(text(d)), { concurrency: 2 });
    let ended: unknown = 'pending';
    c.done.then(() => (ended = 'resolved'), (e: unknown) => (ended = e));
    try {
      expect(await until(() => c.stats().acked === 1)).toBe(true);
      await lost.stop();
      // Before: done rejected 0.6 s into the outage (the waiting XREADGROUP out of ioredis's 3 retries) while the connection still reconnected.
      await sleep(2000);
      expect(ended).toBe('pending');
      await lost.start(); // same port, no persistence: the stream and its group are gone
      for (const b of ['after-1', 'after-2']) await g.xadd('s', '*', 'body', b);
      // Before c5561d7: done rejected at once with Redis's "NOGROUP No such key 's' or consumer group 'workers'" and nothing more was read.
      expect(await until(() => seen.length === 3)).toBe(true);
      expect(seen).toEqual(['before', 'after-1', 'after-2']);
      expect(await until(() => c.stats().acked === 3)).toBe(true);
      expect(((await g.xpending('s', 'workers')) as [number])[0]).toBe(0);
      expect(ended).toBe('pending');
    } finally {
      g.disconnect();
      await c.stop();
      await lost.dispose();
    }
  });

  it('the server gone for good: done rejects with BrokerUnavailableError naming the source (once ioredis stops reconnecting, about 15 s), not ioredis\'s MaxRetriesPerRequestError', async () => {
    const gone = await OwnRedis.start();
    const g = new Redis(gone.url);
    await g.xadd('s', '*', 'body', 'x');
    g.disconnect();
    const source = await RedisStreamsSource.open({ url: gone.url, stream: 's', group: 'workers', consumer: 'c', claimIdleMs: 300, blockMs: 100 });
    const c = new BrokerConsumer(source, () => undefined);
    try {
      expect(await until(() => c.stats().acked === 1)).toBe(true);
      await gone.dispose();
      const err = await c.done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      expect((err as Error).message).toMatch(/^redis-streams at redis:\/\/127\.0\.0\.1:\d+ stream "s" group "workers": unreachable/);
    } finally {
      await c.stop();
      await gone.dispose();
    }
  });
});
