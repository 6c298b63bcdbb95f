import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectedError } from '../../src/core/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { brokerContract } from './contract.js';
import { deleteRabbitQueues, rabbitmq, unique, until } from './services.js';

const svc = await rabbitmq();
const url = svc.url;

let conn: amqp.ChannelModel;
let ch: amqp.ConfirmChannel;
if (svc.up) {
  beforeAll(async () => {
    conn = await amqp.connect(url);
    ch = await conn.createConfirmChannel();
  });
  afterAll(async () => {
    await conn.close();
  });
}

describe.skipIf(!svc.up)('rabbitmq', () => {
  brokerContract('rabbitmq', {
    open: (queue) => RabbitmqSource.open({ url, queue }),
    async publish(queue, bodies) {
      await ch.assertQueue(queue, { durable: true });
      for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b), { persistent: true });
      await ch.waitForConfirms();
    },
    async deadLetters(queue) {
      const out = [];
      await ch.assertQueue(`${queue}.dead`, { durable: true });
      for (let m = await ch.get(`${queue}.dead`, { noAck: true }); m !== false; m = await ch.get(`${queue}.dead`, { noAck: true })) {
        const h = m.properties.headers ?? {};
        out.push({ body: m.content.toString(), reason: String(h['x-sluice-error']), attempts: Number(h['x-sluice-attempt']) });
      }
      return out;
    },
    openUnreachable: () => RabbitmqSource.open({ url: 'amqp://127.0.0.1:1', queue: 'nowhere' }),
    async unacked(queue) {
      // RabbitMQ's view: ready messages left = published − (delivered to this consumer, acked or not).
      const q = await ch.checkQueue(queue);
      return 30 - q.messageCount;
    },
    async cleanup(queue) {
      await deleteRabbitQueues(ch, queue);
    },
  });

  it('the prefetch follows demand at once and the processing rate over time; a fixed prefetch stays put', async () => {
    const queue = unique('prefetch');
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < 200; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.waitForConfirms();
    const adaptive = await RabbitmqSource.open({ url, queue, prefetch: { min: 1, max: 64, bufferMs: 1000, intervalMs: 100 } });
    const taken: unknown[] = [];
    await adaptive.pull(5, (d) => taken.push(d), new AbortController().signal);
    expect(adaptive.prefetch.value).toBe(5); // rose to the demand
    expect(taken.length).toBeLessThanOrEqual(5);
    await adaptive.close();
    const fixed = await RabbitmqSource.open({ url, queue, prefetch: 7 });
    await fixed.pull(50, () => undefined, new AbortController().signal);
    expect(fixed.prefetch.value).toBe(7);
    expect(await until(() => fixed.buffered === 0 || fixed.buffered <= 7)).toBe(true);
    await fixed.close();
    await deleteRabbitQueues(ch, queue);
  });

  it('rejects options that cannot work, naming them', async () => {
    await expect(RabbitmqSource.open({ url, queue: '' })).rejects.toThrow('queue: expected a non-empty string, received ""');
    await expect(RabbitmqSource.open({ url, queue: 'q', prefetch: { min: 10, max: 5 } })).rejects.toThrow('prefetch.max: expected an integer >= min (10), received 5');
    await expect(RabbitmqSource.open({ url, queue: 'q', deadLetterQueue: 'q' })).rejects.toThrow('deadLetterQueue');
  });

  describe('producer', () => {
    it('resolves a publish on the broker confirm; bounded in flight refuses past maxWaiting', async () => {
      const queue = unique('produce');
      await ch.assertQueue(queue, { durable: true });
      const p = await RabbitmqProducer.open({ url, maxInFlight: 1, maxWaiting: 0 });
      try {
        await p.sendToQueue(queue, Buffer.from('one'));
        expect((await ch.checkQueue(queue)).messageCount).toBe(1);
        const first = p.sendToQueue(queue, Buffer.from('two'));
        const second = p.sendToQueue(queue, Buffer.from('three'));
        await expect(second).rejects.toBeInstanceOf(RejectedError);
        await expect(second).rejects.toMatchObject({ reason: 'concurrency' }); // no waiting room: refused at once
        await first;
        expect(p.stats()).toMatchObject({ published: 2, refused: 1, inFlight: 0 });
      } finally {
        await p.close();
        await ch.deleteQueue(queue);
      }
    });

    it('holds publishes while the connection is blocked (memory/disk alarm) and releases them on unblocked', async () => {
      const queue = unique('blocked');
      await ch.assertQueue(queue, { durable: true });
      const p = await RabbitmqProducer.open({ url, maxInFlight: 4, maxWaiting: 2 });
      try {
        // RabbitMQ sends connection.blocked on an alarm; raising a real alarm would stall every
        // client of this shared broker, so the test delivers the same notification through the
        // real client's connection object.
        p.connection.emit('blocked', 'low on memory');
        expect(p.blocked).toBe(true);
        let done = 0;
        const pending = [1, 2, 3, 4].map((i) => p.sendToQueue(queue, Buffer.from(String(i))).then(() => void done++));
        const refused = [5, 6, 7].map((i) => p.sendToQueue(queue, Buffer.from(String(i))).then(() => 'sent', (e: RejectedError) => e.reason));
        await new Promise((r) => setTimeout(r, 200));
        expect(done).toBe(0);
        expect((await ch.checkQueue(queue)).messageCount).toBe(0);
        p.connection.emit('unblocked');
        await Promise.all(pending);
        expect(await Promise.all(refused)).toEqual(['sent', 'sent', 'queue_full']);
        expect((await ch.checkQueue(queue)).messageCount).toBe(6);
        expect(p.stats()).toMatchObject({ blocked: false, blockedTimes: 1, published: 6, refused: 1 });
      } finally {
        await p.close();
        await ch.deleteQueue(queue);
      }
    });

    it('an unreachable broker is an error naming it', async () => {
      await expect(RabbitmqProducer.open({ url: 'amqp://127.0.0.1:1' })).rejects.toThrow(/^rabbitmq at amqp:\/\/127\.0\.0\.1:1: unreachable/);
    });
  });
});
