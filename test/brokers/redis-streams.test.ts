import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { brokerContract } from './contract.js';
import { redis, unique, until } from './services.js';

const svc = await redis();
const url = svc.url;
let r: Redis;
if (svc.up) {
  beforeAll(() => {
    r = new Redis(url);
  });
  afterAll(() => {
    r.disconnect();
  });
}

describe.skipIf(!svc.up)('redis-streams', () => {
  brokerContract('redis-streams', {
    open: (stream) => RedisStreamsSource.open({ url, stream, group: 'workers', consumer: unique('c'), claimIdleMs: 500, blockMs: 200 }),
    async publish(stream, bodies) {
      for (const b of bodies) await r.xadd(stream, '*', 'body', b);
    },
    async deadLetters(stream) {
      const rows = await r.xrange(`${stream}:dead`, '-', '+');
      return rows.map(([, f]) => {
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
        return { body: m.get('body')!, reason: m.get('sluice-error')!, attempts: Number(m.get('sluice-attempts')) };
      });
    },
    openUnreachable: () => RedisStreamsSource.open({ url: 'redis://127.0.0.1:1', stream: 's', group: 'g' }),
    async unacked(stream) {
      const p = (await r.xpending(stream, 'workers')) as [number, ...unknown[]];
      return p[0];
    },
    async cleanup(stream) {
      await r.del(stream, `${stream}:dead`);
    },
  });

  it("XAUTOCLAIM takes over a dead consumer's pending entries, counting the attempt", async () => {
    const stream = unique('claim');
    for (let i = 0; i < 5; i++) await r.xadd(stream, '*', 'body', `e${i}`);
    const dead = await RedisStreamsSource.open({ url, stream, group: 'workers', consumer: 'dead-one', claimIdleMs: 300, blockMs: 100 });
    const taken: Delivery[] = [];
    await dead.pull(3, (d) => taken.push(d), new AbortController().signal);
    expect(taken).toHaveLength(3);
    await dead.close(); // dies holding 3 pending entries
    const alive = await RedisStreamsSource.open({ url, stream, group: 'workers', consumer: 'alive', claimIdleMs: 300, blockMs: 100 });
    const seen = new Map<string, number>();
    const c = new BrokerConsumer(alive, (d) => void seen.set(Buffer.from(d.body).toString(), d.attempt), { concurrency: 5 });
    try {
      expect(await until(() => seen.size === 5, 10_000)).toBe(true);
      expect([...seen.keys()].sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
      expect(seen.get('e0')).toBe(2);
      expect(seen.get('e4')).toBe(1);
      expect(await until(async () => ((await r.xpending(stream, 'workers')) as [number])[0] === 0)).toBe(true);
    } finally {
      await c.stop();
      await r.del(stream);
    }
  });

  it('the producer XADDs within its bounds', async () => {
    const stream = unique('rprod');
    const p = await RedisStreamsProducer.open({ url, maxInFlight: 2 });
    try {
      const ids = await Promise.all(['a', 'b', 'c'].map((b) => p.publish(stream, b, { kind: 'test' })));
      expect(new Set(ids).size).toBe(3);
      const rows = await r.xrange(stream, '-', '+');
      expect(rows.map(([, f]) => f)).toEqual([['body', 'a', 'kind', 'test'], ['body', 'b', 'kind', 'test'], ['body', 'c', 'kind', 'test']]);
      expect(p.stats()).toMatchObject({ published: 3, inFlight: 0 });
    } finally {
      await p.close();
      await r.del(stream);
    }
  });
});
