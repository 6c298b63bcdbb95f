// A classic queue whose dead-letter exchange routes back to itself: a message refused
// (basic.nack without requeue) comes back again and again, the broker counting each turn in its
// `x-death` header — the only count a classic queue keeps. Before, RabbitmqSource read the
// attempt from x-sluice-attempt and x-delivery-count only, so such a message was attempt 1 each
// time round: its handler ran again however often it had looped.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { rabbitmq, unique, until } from '../brokers/services.js';
import { fixture } from './fixtures.js';

const svc = await rabbitmq();
const url = svc.url;

/** A classic queue that dead-letters to itself, holding `body` once it was refused `turns` times by a plain consumer. */
async function looped(queue: string, body: string, turns: number): Promise<void> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } });
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
    for (let turn = 0; turn < turns; turn++) {
      let m: amqp.GetMessage | false = false;
      for (let i = 0; i < 100 && m === false; i++) {
        m = await ch.get(queue, { noAck: false });
        if (m === false) await new Promise((r) => setTimeout(r, 20));
      }
      if (m === false) throw new Error(`turn ${turn}: the message did not come back`);
      ch.nack(m, false, false); // refused: dead-lettered, which routes it back to the queue
    }
    await ch.close();
  } finally {
    await c.close();
  }
}

/** The queue and its dead-letter queue deleted. */
const cleanup = (queue: string): Promise<void> => fixture('rabbitmq').cleanup(queue);

describe.skipIf(!svc.up)('rabbitmq: a dead-letter loop on a classic queue', () => {
  it('a message refused 4 times (x-death count 4) is attempt 5: past maxAttempts 3 it is dead-lettered without running the handler (before: attempt 1, handled again)', async () => {
    const queue = unique('dlx-loop');
    await looped(queue, 'looper', 4);
    const calls: number[] = [];
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue, assertQueue: false }), (d: Delivery) => void calls.push(d.attempt), { onFailure: { maxAttempts: 3 } });
    try {
      expect(await until(() => c.stats().deadLettered === 1, 10_000)).toBe(true);
      expect(calls).toEqual([]);
      const conn = await amqp.connect(url);
      const ch = await conn.createChannel();
      const dead = await ch.get(`${queue}.dead`, { noAck: true });
      expect(dead && [dead.content.toString(), dead.properties.headers?.['x-sluice-attempt']]).toEqual(['looper', 5]);
      expect((await ch.checkQueue(queue)).messageCount).toBe(0);
      await conn.close();
    } finally {
      await c.stop();
      await cleanup(queue);
    }
  });

  it('refused twice, under maxAttempts 5: handled as attempt 3, and a retry counts on from there', async () => {
    const queue = unique('dlx-loop-ok');
    await looped(queue, 'again', 2);
    const attempts: number[] = [];
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue, assertQueue: false }), (d: Delivery) => {
      attempts.push(d.attempt);
      if (attempts.length === 1) throw new Error('once more');
    }, { onFailure: { maxAttempts: 5, baseDelayMs: 0 } });
    try {
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(attempts).toEqual([3, 4]);
    } finally {
      await c.stop();
      await cleanup(queue);
    }
  });
});
