// Kafka against a real single-node KRaft broker (scripts/brokers/kafka.sh; KAFKA_BROKERS).
// The JVM broker is not on every machine, so this runs in `npm run test:brokers`.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource, OffsetTracker } from '../../src/kafka/index.js';
import { brokerContract } from '../brokers/contract.js';
import type { DeadLetter } from '../brokers/contract.js';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';

const svc = await kafkaService();
const brokers = svc.url.replace(/^tcp:\/\//, '').split(',');
const kafka = new Kafka({ clientId: 'tests', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
if (svc.up) await admin.connect();
afterAll(async () => {
  if (svc.up) await admin.disconnect();
});

async function readAll(topic: string): Promise<{ value: string; headers: Record<string, string> }[]> {
  const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (total === 0) return [];
  const c = kafka.consumer({ groupId: unique('reader') });
  const out: { value: string; headers: Record<string, string> }[] = [];
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ value: String(message.value), headers });
    },
  });
  await until(() => out.length >= total, 20_000);
  await c.disconnect();
  return out;
}

describe('OffsetTracker', () => {
  it('commits the lowest unfinished offset, never past a pending one', () => {
    const t = new OffsetTracker();
    for (const o of [5n, 6n, 7n, 8n]) t.track(o);
    expect(t.committable()).toBe(5n);
    t.done(6n);
    t.done(8n);
    expect(t.committable()).toBe(5n);
    t.done(5n);
    expect(t.committable()).toBe(7n);
    t.committed(7n);
    expect(t.committable()).toBeUndefined();
    t.done(7n);
    expect(t.committable()).toBe(9n);
  });
});

describe.skipIf(!svc.up)('kafka', () => {
  brokerContract('kafka', {
    open: (topic) => KafkaSource.open({ brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, partitionBuffer: 16, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }),
    async publish(topic, bodies) {
      await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
      const p = await KafkaProducer.open({ brokers });
      for (const b of bodies) await p.send(topic, b);
      await p.close();
    },
    async deadLetters(topic): Promise<DeadLetter[]> {
      return (await readAll(`${topic}.dead`)).map((m) => ({ body: m.value, reason: m.headers['sluice-error'] ?? '', attempts: Number(m.headers['sluice-attempts']) }));
    },
    openUnreachable: () => KafkaSource.open({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g' }),
    lagCountsHeld: true,
    async cleanup(topic) {
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    },
  });

  it('pauses a partition whose buffer is full and resumes it when demand drains it; a slow handler never costs a rebalance', async () => {
    const topic = unique('kpause');
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    const p = await KafkaProducer.open({ brokers });
    for (let i = 0; i < 100; i++) await p.send(topic, String(i));
    await p.close();
    const source = await KafkaSource.open({ brokers, topic, groupId: `${topic}-g`, partitionBuffer: 10, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, commitIntervalMs: 200 });
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const c = new BrokerConsumer(source, () => stuck, { concurrency: 1 });
    try {
      expect(await until(() => source.pausedPartitions.length === 1, 10_000)).toBe(true);
      expect(source.buffered).toBeLessThanOrEqual(10);
      // Held well past the session timeout: heartbeats keep the member in the group.
      await new Promise((r) => setTimeout(r, 8000));
      expect(c.stats().received).toBe(1);
      release();
      expect(await until(() => c.stats().acked === 100, 30_000)).toBe(true);
      expect(c.stats().received).toBe(100); // no rebalance re-delivered anything
      expect(await until(async () => (await source.lag()) === 0, 10_000)).toBe(true);
    } finally {
      release();
      await c.stop();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  });
});
