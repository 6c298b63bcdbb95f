// A handler's AbortSignal (its second argument) aborts when the consumer gives up on it, not only
// at handlerTimeoutMs: stop()'s graceMs passing with the handler running, the broker failing the
// consumer (its queue deleted: the ack cannot go), or the message's lease lost (a peer claimed
// the Redis Streams entry: extendEveryMs finds it owned by another). Before, it aborted only at
// handlerTimeoutMs, so a handler abandoned by stop() or whose message went to a peer worked on,
// unaware. Against the shared RabbitMQ and Redis.
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, LeaseLostError, QueueDeletedError } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { ClosedError } from '../../src/core/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { deleteRabbitQueues, rabbitmq, redis, unique, until } from './services.js';

const rsvc = await redis();
const asvc = await rabbitmq();

/** A consumer whose one handler waits for its signal and keeps the reason it aborted with. */
function waiting(source: BrokerSource, options: Record<string, unknown> = {}) {
  const reasons: unknown[] = [];
  let started = 0;
  const consumer = new BrokerConsumer(
    source,
    (_d, signal) =>
      new Promise<void>((_resolve, reject) => {
        started++;
        signal.addEventListener('abort', () => {
          reasons.push(signal.reason);
          reject(signal.reason as Error);
        });
      }),
    options,
  );
  return { consumer, reasons, started: () => started };
}

describe.skipIf(!rsvc.up)('redis-streams: the handler signal', () => {
  let r: Redis;
  beforeAll(() => {
    r = new Redis(rsvc.url);
  });
  afterAll(() => r.disconnect());

  async function stream(): Promise<{ stream: string; source: RedisStreamsSource }> {
    const s = unique('sig');
    await r.xadd(s, '*', 'body', 'one');
    return { stream: s, source: await RedisStreamsSource.open({ url: rsvc.url, stream: s, group: 'workers', consumer: 'me', claimIdleMs: 60_000, blockMs: 100 }) };
  }

  it("stop()'s graceMs passes with the handler running: its signal aborts with a ClosedError", async () => {
    const { stream: s, source } = await stream();
    const { consumer, reasons, started } = waiting(source);
    try {
      expect(await until(() => started() === 1, 5000)).toBe(true);
      await consumer.stop({ graceMs: 200 });
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(ClosedError);
      expect(String(reasons[0])).toMatch(/^ClosedError: redis-streams at .*: stop\(\)'s graceMs \(200 ms\) passed with the handler running: closed$/);
    } finally {
      await consumer.stop();
      await r.del(s, `${s}:dead`);
    }
  });

  it('the lease lost (a peer claimed the entry): its signal aborts with a LeaseLostError naming the message', async () => {
    const { stream: s, source } = await stream();
    const { consumer, reasons, started } = waiting(source, { extendEveryMs: 100 });
    try {
      expect(await until(() => started() === 1, 5000)).toBe(true);
      const [[id]] = (await r.xpending(s, 'workers', '-', '+', 10)) as [[string]];
      await r.xclaim(s, 'workers', 'thief', 0, id);
      expect(await until(() => reasons.length === 1, 5000)).toBe(true);
      expect(reasons[0]).toBeInstanceOf(LeaseLostError);
      expect(String(reasons[0])).toBe(`LeaseLostError: ${source.name}: message ${id} is no longer this consumer's (claimed by "thief"): another consumer may be handling it`);
    } finally {
      await consumer.stop({ graceMs: 0 });
      await r.del(s, `${s}:dead`);
    }
  });

  it('a plain stop() does not abort it: running handlers finish', async () => {
    const { stream: s, source } = await stream();
    let aborted = false;
    let started = false;
    const consumer = new BrokerConsumer(source, async (_d, signal) => {
      started = true;
      await new Promise((res) => setTimeout(res, 300));
      aborted = signal.aborted;
    });
    try {
      expect(await until(() => started, 5000)).toBe(true);
      await consumer.stop();
      expect(aborted).toBe(false);
      expect(consumer.stats().acked).toBe(1);
    } finally {
      await r.del(s, `${s}:dead`);
    }
  });
});

describe.skipIf(!asvc.up)('rabbitmq: the handler signal', () => {
  it('the broker fails the consumer (its queue deleted): the running handler\'s signal aborts with that error', async () => {
    const queue = unique('sig');
    const conn = await amqp.connect(asvc.url);
    const ch = await conn.createChannel();
    const source = await RabbitmqSource.open({ url: asvc.url, queue });
    ch.sendToQueue(queue, Buffer.from('one'));
    // A free slot: a pull is under way, which the broker's failure ends (with every slot busy, nothing pulls to learn of it).
    const { consumer, reasons, started } = waiting(source, { concurrency: 2 });
    try {
      expect(await until(() => started() === 1, 5000)).toBe(true);
      await ch.deleteQueue(queue);
      expect(await until(() => reasons.length === 1, 5000)).toBe(true);
      expect(reasons[0]).toBeInstanceOf(QueueDeletedError);
      await expect(consumer.done).rejects.toBeInstanceOf(QueueDeletedError);
    } finally {
      await consumer.stop({ graceMs: 0 });
      await deleteRabbitQueues(ch, queue);
      await conn.close();
    }
  });

  it("stop()'s graceMs passes with the handler running: its signal aborts with a ClosedError", async () => {
    const queue = unique('sig');
    const conn = await amqp.connect(asvc.url);
    const ch = await conn.createChannel();
    const source = await RabbitmqSource.open({ url: asvc.url, queue });
    ch.sendToQueue(queue, Buffer.from('one'));
    const { consumer, reasons, started } = waiting(source);
    try {
      expect(await until(() => started() === 1, 5000)).toBe(true);
      await consumer.stop({ graceMs: 100 });
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(ClosedError);
    } finally {
      await deleteRabbitQueues(ch, queue);
      await conn.close();
    }
  });
});
