// A Kafka dead letter past the dead-letter topic's max.message.bytes (KAFKA_BROKERS,
// scripts/brokers/kafka.sh). The copy is the message plus sluice's headers (the error text among
// them), so it can be refused where the message was not: MESSAGE_TOO_LARGE. Before: the dead
// letter failed (a settle error), the message was never finished, and the partition's committed
// offset stayed below it for ever — the group read everything after it again at each restart.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { DeadLetterTooLargeError } from '../../src/brokers/dead-letter-fit.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { unique, until } from '../brokers/services.js';
import { admin, brokers, readAll, svc } from './kafka-admin.js';

describe.skipIf(!svc.up)('kafka: a dead letter past max.message.bytes', () => {
  it('the error text is cut to fit; a message too large even then goes as a stub naming where it is; both committed past, nothing stalls', async () => {
    const topic = unique('dead-fit');
    const dead = `${topic}.dead`;
    // The dead-letter topic takes less than its source (4 KiB against the default 1 MiB).
    await admin.createTopics({ topics: [{ topic: dead, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '4096' }] }], waitForLeaders: true });
    expect(await ensureTopics(admin, [{ topic }, { topic: dead }])).toBeDefined();
    const p = await KafkaProducer.open({ brokers });
    await p.send(topic, 'a'.repeat(3500)); // fits with its error text cut
    await p.send(topic, 'b'.repeat(5000)); // fits not even without one
    await p.send(topic, 'after');
    await p.close();
    const source = await KafkaSource.open({ brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 });
    const settleErrors: unknown[] = [];
    const handled: string[] = [];
    const consumer = new BrokerConsumer(
      source,
      (d) => {
        const body = Buffer.from(d.body).toString();
        handled.push(body.slice(0, 5));
        if (body !== 'after') throw new Error('x'.repeat(3000));
      },
      { onFailure: { maxAttempts: 1 }, onSettleError: (e) => settleErrors.push(e) },
    );
    try {
      expect(await until(() => handled.length === 3, 60_000)).toBe(true);
      // Every message finished and committed: the group's lag comes down to 0 (before: 3, the commit held below the first).
      expect(await until(async () => (await source.lag()) === 0, 30_000)).toBe(true);
      expect(consumer.stats()).toMatchObject({ received: 3, deadLettered: 1, acked: 1, settleErrors: 1 });
      expect(settleErrors).toHaveLength(1);
      const e = settleErrors[0] as DeadLetterTooLargeError;
      expect(e).toBeInstanceOf(DeadLetterTooLargeError);
      expect(e.limit).toBe(4096);
      expect(e.message).toMatch(/dead letter of .*@1 is \d+ bytes with its error text cut, past the dead-letter topic's max.message.bytes \(4096\)/);
      // By their source: the two dead letters run beside the next handler, so either may land first.
      const [cut, stub] = (await readAll(dead)).sort((x, y) => (x.headers['sluice-source']! < y.headers['sluice-source']! ? -1 : 1));
      expect(String(cut!.value)).toBe('a'.repeat(3500));
      expect(cut!.headers['sluice-error']).toMatch(/^Error: x+ … \(cut to fit the dead-letter topic's max.message.bytes\)$/);
      expect(cut!.headers['sluice-source']).toBe(`${topic}/0@0`);
      expect(stub!.value).toBeNull();
      expect(stub!.headers['sluice-source']).toBe(`${topic}/0@1`);
      expect(stub!.headers['sluice-dropped']).toContain(`the message is still at ${topic}/0@1`);
    } finally {
      await consumer.stop();
      await admin.deleteTopics({ topics: [topic, dead] }).catch(() => undefined);
    }
  });
});
