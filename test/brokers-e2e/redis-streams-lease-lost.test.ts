// A Redis Streams entry another consumer has taken over (XCLAIM / XAUTOCLAIM once it idled past
// claimIdleMs) is that consumer's: this one's late ack, retry or dead letter must not settle it
// under its new owner, nor take it back. Against a redis-server of the test's own, stopped by PID.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, LeaseLostError } from '../../src/brokers/index.js';
import type { Delivery, Settlement } from '../../src/brokers/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { unique, until } from '../brokers/services.js';
import { haveRedisServer, useOwnRedis } from '../redis/servers.js';
import type { OwnRedis } from '../redis/servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('redis-streams: a lost lease', () => {
  let own: OwnRedis;
  let r: Redis;
  useOwnRedis((o, raw) => {
    own = o;
    r = raw;
  });
  const open = (stream: string, consumer: string, claimIdleMs = 300): Promise<RedisStreamsSource> => RedisStreamsSource.open({ url: own.url, stream, group: 'workers', consumer, claimIdleMs, blockMs: 100 });
  /** The group's pending entries as [id, owner, deliveries]. */
  const owners = async (stream: string): Promise<[string, string, number][]> => ((await r.xpending(stream, 'workers', '-', '+', 10)) as [string, string, number, number][]).map(([id, c, , n]) => [id, c, n]);
  /** An entry past Lua's ~8,000 values of one call: its dead letter is three commands, not one script. */
  const WIDE: string[] = ['body', 'w'];
  for (let i = 0; i < 4100; i++) WIDE.push(`h${i}`, 'v');
  const lost = (e: unknown): boolean => e instanceof LeaseLostError && /claimed by "b"/.test((e as Error).message);

  it('an entry a peer claimed (and still handles): this consumer\'s late ack, retry or dead letter rejects with LeaseLostError and leaves it to the peer', async () => {
    const stream = unique('lease-lost');
    for (const b of ['ack', 'retry', 'dead', 'wide']) await r.xadd(stream, '*', ...(b === 'wide' ? WIDE : ['body', b]));
    const a = await open(stream, 'a');
    const got: Delivery[] = [];
    await a.pull(4, (d) => got.push(d), new AbortController().signal);
    expect(got).toHaveLength(4);
    for (const d of got) await r.xclaim(stream, 'workers', 'b', 0, d.id, 'JUSTID'); // b took each over
    await expect(got[0]!.ack()).rejects.toSatisfy(lost);
    await expect(got[1]!.retry(0, 'boom')).rejects.toSatisfy(lost);
    await expect(got[2]!.deadLetter('boom')).rejects.toSatisfy(lost);
    await expect(got[3]!.deadLetter('boom')).rejects.toSatisfy(lost);
    // Still pending, each with b (not acked under it, not claimed back by the retry), nothing copied.
    expect((await owners(stream)).map(([id, c]) => [id, c])).toEqual(got.map((d) => [d.id, 'b']));
    expect(await r.exists(`${stream}:dead`)).toBe(0);
    await a.close();
    await r.del(stream);
  });

  it('a handler outlasting claimIdleMs without extend: a peer\'s consumer claims and handles the entry; the first one\'s ack is a settle error (LeaseLostError), the peer\'s ack the one that counts', async () => {
    const stream = unique('lease-lost-consumer');
    await r.xadd(stream, '*', 'body', 'slow');
    const a = await open(stream, 'a');
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const settleErrors: [unknown, Settlement][] = [];
    const ca = new BrokerConsumer(a, () => gate, { onSettleError: (err, _d, how) => settleErrors.push([err, how]) });
    let cb: BrokerConsumer | undefined;
    const peerGate: { open?: () => void } = {};
    const peerHeld = new Promise<void>((res) => (peerGate.open = res));
    let peerRan = 0;
    try {
      expect(await until(() => ca.stats().inFlight === 1)).toBe(true);
      const id = (await owners(stream))[0]![0];
      // b claims it once idle past claimIdleMs, and holds it (extending: a's next pulls must not
      // claim it back) until a's handler has finished.
      cb = new BrokerConsumer(await open(stream, 'b'), async () => {
        peerRan++;
        await peerHeld;
      }, { extendEveryMs: 50 });
      expect(await until(() => peerRan === 1)).toBe(true);
      release();
      expect(await until(() => ca.stats().settleErrors === 1)).toBe(true);
      expect(settleErrors).toHaveLength(1);
      expect(settleErrors[0]![1]).toBe('ack');
      expect(lost(settleErrors[0]![0])).toBe(true);
      expect(ca.stats()).toMatchObject({ acked: 0, settleErrors: 1 });
      // Not acked under b while b still handles it.
      expect((await owners(stream)).map(([i, c]) => [i, c])).toEqual([[id, 'b']]);
      peerGate.open!();
      expect(await until(() => cb!.stats().acked === 1)).toBe(true);
      expect(await owners(stream)).toEqual([]);
    } finally {
      release();
      peerGate.open!();
      await ca.stop();
      await cb?.stop();
      await r.del(stream);
    }
  });
});
