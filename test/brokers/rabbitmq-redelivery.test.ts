// A message whose consumer went away without settling it comes back `redelivered`. A quorum
// queue counts that (`x-delivery-count`); a classic queue does not, so RabbitmqSource moves it to
// `<queue>.suspects` (a confirmed copy, the original acked), where suspects are handled one at a
// time, alone — and one that comes back from there is counted (x-sluice-attempt): without that,
// a message that kills its consumer process is attempt 1 to every restarted consumer.
// The poison itself, with real processes killed: test/brokers-e2e/rabbitmq-poison-restart.test.ts.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { deleteRabbitQueues, rabbitmq, unique, until } from './services.js';

const svc = await rabbitmq();
const url = svc.url;

/** A `type` queue holding `body`, delivered once to a consumer that went away without settling it. */
async function redelivered(type: 'classic' | 'quorum', queue: string, body: string): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': type } });
  ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await ch.waitForConfirms();
  const taker = await amqp.connect(url);
  const tch = await taker.createChannel();
  await tch.prefetch(1);
  const got = new Promise<void>((resolve) => void tch.consume(queue, (m) => m !== null && resolve(), { noAck: false }));
  await got;
  await taker.close(); // unacknowledged: the broker requeues it, `redelivered`
  await c.close();
}

async function cleanup(queue: string): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  await deleteRabbitQueues(ch, queue);
  await c.close();
}

describe.skipIf(!svc.up)('rabbitmq: a redelivery its queue did not count', () => {
  it('classic queue: a suspect — moved to the suspect queue uncounted and handled there alone, as attempt 1 (a death in a crowd points at nobody)', async () => {
    const queue = unique('redelivered-classic');
    await redelivered('classic', queue, 'again');
    const source = await RabbitmqSource.open({ url, queue, assertQueue: false });
    const seen: { attempt: number; header: string | undefined }[] = [];
    const c = new BrokerConsumer(source, (d: Delivery) => void seen.push({ attempt: d.attempt, header: d.headers['x-sluice-attempt'] }));
    try {
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(seen).toEqual([{ attempt: 1, header: undefined }]);
      expect(source.countedRedeliveries).toBe(0);
    } finally {
      await c.stop();
      await cleanup(queue);
    }
  });

  it('suspectQueue names the suspect queue: the suspect is moved there (no `<queue>.suspects` declared) and handled alone', async () => {
    const queue = unique('redelivered-named');
    const suspectQueue = `${queue}-isolation`;
    await redelivered('classic', queue, 'again');
    const source = await RabbitmqSource.open({ url, queue, assertQueue: false, suspectQueue });
    const seen: string[] = [];
    const c = new BrokerConsumer(source, (d: Delivery) => void seen.push(Buffer.from(d.body).toString()));
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // the 404 of the default name's check closes this channel
    try {
      expect(source.suspectQueue).toBe(suspectQueue);
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(seen).toEqual(['again']);
      expect((await ch.checkQueue(suspectQueue)).messageCount).toBe(0);
      // Before: open() refused the option ('suspectQueue: expected one of the RabbitmqSource options').
      await expect(ch.checkQueue(`${queue}.suspects`)).rejects.toThrow(/NOT_FOUND/);
    } finally {
      await c.stop();
      await conn.close().catch(() => undefined);
      const cc = await amqp.connect(url);
      const cch = await cc.createChannel();
      for (const q of [queue, `${queue}.dead`, suspectQueue]) await cch.deleteQueue(q);
      await cc.close();
    }
  });

  it('quorum queue: counted by the broker (x-delivery-count) — attempt 2, no copy', async () => {
    const queue = unique('redelivered-quorum');
    await redelivered('quorum', queue, 'again');
    const source = await RabbitmqSource.open({ url, queue, assertQueue: false, prefetch: 4 });
    const seen: { attempt: number; header: string | undefined }[] = [];
    const c = new BrokerConsumer(source, (d: Delivery) => void seen.push({ attempt: d.attempt, header: d.headers['x-sluice-attempt'] }));
    try {
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(seen).toEqual([{ attempt: 2, header: undefined }]);
      expect(source.countedRedeliveries).toBe(0);
    } finally {
      await c.stop();
      await cleanup(queue);
    }
  });
});
