// The Redis Streams consumer through an outage and a dead-letter stream the server keeps
// refusing, against a redis-server of the test's own (stopped by PID and started again).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { unique, until } from '../brokers/services.js';
import { haveRedisServer, OwnRedis } from '../redis/servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('redis-streams: an outage, a dead letter refused for ever', () => {
  let own: OwnRedis;
  let r: Redis;
  beforeAll(async () => {
    own = await OwnRedis.start();
    r = new Redis(own.url);
    r.on('error', () => undefined); // the server is stopped on purpose below
  });
  afterAll(async () => {
    r?.disconnect();
    await own?.dispose();
  });
  const open = (stream: string, consumer: string, more: { deadLetterTries?: number } = {}): Promise<RedisStreamsSource> =>
    RedisStreamsSource.open({ url: own.url, stream, group: 'workers', consumer, claimIdleMs: 200, blockMs: 100, ...more });

  it('connection in stats: up, reconnecting while the server is down, up again once it is back with the reconnect counted, down after stop', async () => {
    const stream = unique('outage');
    const c = new BrokerConsumer(await open(stream, 'a'), () => undefined);
    try {
      expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 0 });
      await own.stop();
      // Before: no connection field at all — a consumer riding out an outage looked healthy.
      expect(await until(() => c.stats().connection === 'reconnecting')).toBe(true);
      await own.start();
      expect(await until(() => c.stats().connection === 'up', 20_000)).toBe(true);
      expect(c.stats().reconnects).toBe(1);
      await r.xadd(stream, '*', 'body', 'after');
      expect(await until(() => c.stats().acked === 1, 20_000)).toBe(true);
    } finally {
      await c.stop();
    }
    expect(c.stats().connection).toBe('down');
  });

  it('a dead letter the server keeps refusing: after deadLetterTries refusals the entry is parked — left pending, no longer claimed or retried here — and a peer dead-letters it once the key is fixed', async () => {
    const stream = unique('refused');
    await r.set(`${stream}:dead`, 'not a stream'); // every XADD to it: WRONGTYPE
    const [id] = [await r.xadd(stream, '*', 'body', 'poison')];
    const source = await open(stream, 'a'); // deadLetterTries: 3, the default
    let calls = 0;
    const c = new BrokerConsumer(source, () => {
      calls++;
      throw new Error('poison');
    }, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => c.stats().settleErrors === 3)).toBe(true);
      await sleep(1500); // seven times claimIdleMs
      // Before: claimed and refused again every claimIdleMs, for ever (settleErrors ~10 by now).
      expect(c.stats()).toMatchObject({ failed: 1, deadLettered: 0, settleErrors: 3, held: 0 });
      expect(calls).toBe(1);
      expect(source.parked).toEqual([id]);
      expect(((await r.xpending(stream, 'workers')) as [number])[0]).toBe(1);
    } finally {
      await c.stop();
    }
    await r.del(`${stream}:dead`);
    const b = new BrokerConsumer(await open(stream, 'b'), () => undefined, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => b.stats().deadLettered === 1)).toBe(true);
      expect((await r.xrange(`${stream}:dead`, '-', '+')).map(([, f]) => f[1])).toEqual(['poison']);
      expect(((await r.xpending(stream, 'workers')) as [number])[0]).toBe(0);
    } finally {
      await b.stop();
      await r.del(stream, `${stream}:dead`);
    }
  });

  it('the operator\'s way out of a parked entry: parkedEntries() shows reason and refusal, deadLetterParked(id) sends the same dead letter once the key is fixed, dropParked(id) acks one without a copy — before: parked until the process ended', async () => {
    const stream = unique('unpark');
    await r.set(`${stream}:dead`, 'not a stream'); // every XADD to it: WRONGTYPE
    const first = await r.xadd(stream, '*', 'body', 'poison-1');
    const second = await r.xadd(stream, '*', 'body', 'poison-2');
    const source = await open(stream, 'a', { deadLetterTries: 1 });
    const c = new BrokerConsumer(source, (d) => {
      throw new Error(`bad ${Buffer.from(d.body).toString()}`);
    }, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => source.parked.length === 2)).toBe(true);
      const seen = source.parkedEntries();
      expect(seen.map((p) => p.id).sort()).toEqual([first, second].sort());
      expect(seen.find((p) => p.id === first)).toMatchObject({ reason: 'Error: bad poison-1 (attempt 1 of 1)', attempt: 1, error: expect.stringMatching(/^WRONGTYPE/) as unknown });
      // Still refused: rejects with the server's error, still parked.
      await expect(source.deadLetterParked(first!)).rejects.toThrow(/WRONGTYPE/);
      expect(source.parked).toContain(first);
      await r.del(`${stream}:dead`);
      expect(await source.deadLetterParked(first!)).toBe(true);
      expect(await source.dropParked(second!)).toBe(true);
      expect(source.parked).toEqual([]);
      expect(await source.deadLetterParked(first!)).toBe(false); // not parked (any more)
      await expect(source.dropParked(5 as never)).rejects.toThrow(/^id: expected a stream entry id/);
      const dead = await r.xrange(`${stream}:dead`, '-', '+');
      expect(dead.map(([, f]) => [f[1], f[f.indexOf('sluice-error') + 1]])).toEqual([['poison-1', 'Error: bad poison-1 (attempt 1 of 1)']]);
      expect(((await r.xpending(stream, 'workers')) as [number])[0]).toBe(0);
      await sleep(600); // three times claimIdleMs: nothing comes back
      expect(c.stats()).toMatchObject({ received: 2, failed: 2 });
    } finally {
      await c.stop();
      await r.del(stream, `${stream}:dead`);
    }
  });

  it('a parked entry a peer acked meanwhile: deadLetterParked(id) resolves false and it is parked no more — before: rejected "no longer pending" and listed as parked for ever', async () => {
    const stream = unique('unpark-gone');
    await r.set(`${stream}:dead`, 'not a stream'); // every XADD to it: WRONGTYPE
    const id = await r.xadd(stream, '*', 'body', 'poison');
    const source = await open(stream, 'a', { deadLetterTries: 1 });
    const c = new BrokerConsumer(source, () => {
      throw new Error('bad');
    }, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => source.parked.length === 1)).toBe(true);
      expect(await r.xack(stream, 'workers', id!)).toBe(1); // a peer's ack (or a server that lost it)
      await r.del(`${stream}:dead`);
      expect(await source.deadLetterParked(id!)).toBe(false);
      expect(source.parked).toEqual([]);
      expect(await r.exists(`${stream}:dead`)).toBe(0); // nothing copied
    } finally {
      await c.stop();
      await r.del(stream, `${stream}:dead`);
    }
  });

  it('deadLetterTries must be an integer >= 1', async () => {
    for (const bad of [0, 1.5, 'x']) {
      const err = await RedisStreamsSource.open({ url: own.url, stream: 's', group: 'g', deadLetterTries: bad as number }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toMatch(/^deadLetterTries: expected an integer >= 1/);
    }
  });
});
