// A Kafka consumer across its broker's restart: a Kafka of the test's own (own-kafka.ts) killed
// by PID and started again on the same ports and data. Runs where the shared Kafka runs (the
// same script starts both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';
import { OwnKafka } from './own-kafka.js';

const svc = await kafkaService();

describe.skipIf(!svc.up)('kafka: its broker restarted', () => {
  let own: OwnKafka;
  beforeAll(async () => {
    own = await OwnKafka.start();
  }, 240_000);
  afterAll(async () => {
    await own?.dispose();
  });

  async function produce(topic: string, body: string): Promise<void> {
    const p = await KafkaProducer.open({ brokers: own.brokers });
    await p.send(topic, body);
    await p.close();
  }

  it('stats say reconnecting while the broker is down and up again (a reconnect more) once kafkajs rejoined — before: unknown throughout; messages flow after', async () => {
    const topic = unique('outage');
    await produce(topic, 'before');
    const got: string[] = [];
    const source = await KafkaSource.open({ brokers: own.brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 });
    const c = new BrokerConsumer(source, (d) => void got.push(Buffer.from(d.body).toString()));
    try {
      expect(await until(() => got.includes('before'), 60_000)).toBe(true);
      expect(c.stats().connection).toBe('up');
      // kafkajs may already have restarted once on a busy host (a crash it retries from while
      // joining): counted, as it should be. The outage adds to it.
      const before = c.stats().reconnects;
      await own.kill();
      expect(await until(() => c.stats().connection === 'reconnecting', 60_000)).toBe(true);
      expect(c.stats().state).toBe('running');
      await own.restart();
      expect(await until(() => c.stats().connection === 'up', 120_000)).toBe(true);
      expect(c.stats().reconnects).toBeGreaterThan(before);
      await produce(topic, 'after');
      expect(await until(() => got.includes('after'), 60_000)).toBe(true);
    } finally {
      await c.stop({ graceMs: 5000 });
    }
    expect(c.stats()).toMatchObject({ state: 'stopped', connection: 'down' });
  });
});
