// One way per broker to fill a queue/stream quickly, open a consumer source on it, read its
// lag and clean up — shared by the proofs, the child consumer and the benchmark.
import amqp from 'amqplib';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import type { BrokerSource, ProducerThrottle } from '../../src/brokers/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { JetstreamProducer, JetstreamSource } from '../../src/jetstream/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { Kafka, logLevel } from 'kafkajs';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { deleteRabbitQueues } from '../brokers/services.js';

export type BrokerName = 'rabbitmq' | 'jetstream' | 'redis-streams' | 'kafka' | 'sqs';

export interface OpenOptions {
  /** RabbitMQ: a fixed prefetch instead of the adaptive one. Kafka: fetches of the ceilings (fetchSizing 'fixed') into partition buffers of this size. */
  readonly fixedPrefetch?: number;
  /** Redis Streams: consumer name (a restarted process is a new consumer). */
  readonly consumer?: string;
  /** How soon a dead consumer's messages come back, ms (JetStream ack_wait, Redis claim idle, SQS visibility). */
  readonly redeliverMs?: number;
}

/** A producer of the broker's own kind, held back by `throttle` and by the broker's acknowledgements. */
export interface TestProducer {
  send(i: number): Promise<void>;
  close(): Promise<void>;
}

export interface Fixture {
  producer(name: string, throttle?: ProducerThrottle): Promise<TestProducer>;
  fill(name: string, count: number, bodyBytes: number, from?: number): Promise<void>;
  open(name: string, options?: OpenOptions): Promise<BrokerSource>;
  cleanup(name: string): Promise<void>;
}

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_SERVERS = (process.env.NATS_URL ?? '127.0.0.1:4222').replace(/^nats:\/\//, '');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Body i: its number, padded to `bytes`. */
export function body(i: number, bytes: number): Buffer {
  const b = Buffer.alloc(Math.max(bytes, 12), 'x');
  b.write(`${i}:`, 0);
  return b;
}

export function idOf(b: Uint8Array): number {
  const s = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 16)).toString();
  return Number(s.slice(0, s.indexOf(':')));
}

const streamName = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_');

const rabbitmq: Fixture = {
  async producer(name, throttle) {
    const p = await RabbitmqProducer.open({ url: AMQP_URL, ...(throttle ? { throttle } : {}) });
    return { send: (i) => p.sendToQueue(name, body(i, 16)), close: () => p.close() };
  },
  async fill(name, count, bytes, from = 0) {
    const c = await amqp.connect(AMQP_URL);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue(name, { durable: true });
    for (let i = from; i < from + count; i++) {
      if (!ch.sendToQueue(name, body(i, bytes), { persistent: false })) await new Promise((r) => ch.once('drain', r));
      if (i % 5000 === 4999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    await c.close();
  },
  open: (name, o = {}) => RabbitmqSource.open({ url: AMQP_URL, queue: name, ...(o.fixedPrefetch !== undefined ? { prefetch: o.fixedPrefetch } : {}) }),
  async cleanup(name) {
    const c = await amqp.connect(AMQP_URL);
    const ch = await c.createChannel();
    await deleteRabbitQueues(ch, name);
    await c.close();
  },
};

const jetstreamFx: Fixture = {
  async producer(name, throttle) {
    const p = await JetstreamProducer.open({ servers: NATS_SERVERS, ...(throttle ? { throttle } : {}) });
    return { send: async (i) => void (await p.publish(`${streamName(name)}.in`, body(i, 16))), close: () => p.close() };
  },
  async fill(name, count, bytes, from = 0) {
    const s = streamName(name);
    const nc = await connect({ servers: NATS_SERVERS });
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(s);
    } catch {
      await jsm.streams.add({ name: s, subjects: [`${s}.>`] });
    }
    const js = jetstream(nc);
    for (let i = from; i < from + count; i += 500) {
      const batch = [];
      for (let j = i; j < Math.min(i + 500, from + count); j++) batch.push(js.publish(`${s}.in`, body(j, bytes)));
      await Promise.all(batch);
    }
    await nc.close();
  },
  open: (name, o = {}) => JetstreamSource.open({ servers: NATS_SERVERS, stream: streamName(name), subjects: [`${streamName(name)}.>`], consumer: 'workers', ackWaitMs: Math.max(1000, o.redeliverMs ?? 30_000), maxAckPending: 1000 }),
  async cleanup(name) {
    const nc = await connect({ servers: NATS_SERVERS });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(streamName(name)).catch(() => undefined);
    await jsm.streams.delete(`${streamName(name)}_DEAD`).catch(() => undefined);
    await nc.close();
  },
};

const redisFx: Fixture = {
  async producer(name, throttle) {
    const p = await RedisStreamsProducer.open({ url: REDIS_URL, ...(throttle ? { throttle } : {}) });
    return { send: async (i) => void (await p.publish(name, body(i, 16))), close: () => p.close() };
  },
  async fill(name, count, bytes, from = 0) {
    const r = new Redis(REDIS_URL);
    for (let i = from; i < from + count; i += 1000) {
      const p = r.pipeline();
      for (let j = i; j < Math.min(i + 1000, from + count); j++) p.xadd(name, '*', 'body', body(j, bytes));
      await p.exec();
    }
    r.disconnect();
  },
  open: (name, o = {}) => RedisStreamsSource.open({ url: REDIS_URL, stream: name, group: 'workers', consumer: o.consumer ?? `c-${process.pid}`, claimIdleMs: o.redeliverMs ?? 30_000, blockMs: 200 }),
  async cleanup(name) {
    const r = new Redis(REDIS_URL);
    await r.del(name, `${name}:dead`);
    r.disconnect();
  },
};

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';
const sqsCredentials = { accessKeyId: 'x', secretAccessKey: 'x' };

const kafkaFx: Fixture = {
  async producer(name, throttle) {
    const p = await KafkaProducer.open({ brokers: KAFKA_BROKERS, ...(throttle ? { throttle } : {}) });
    return { send: async (i) => void (await p.send(name, body(i, 16))), close: () => p.close() };
  },
  async fill(name, count, bytes, from = 0) {
    const k = new Kafka({ clientId: 'fill', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const admin = k.admin();
    await admin.connect();
    // ensureTopics resolves false only when a signal aborts (none here): a topic that existed is
    // fine, and one not served in 30 s rejects naming the topic and the last reason seen.
    await ensureTopics(admin, [{ topic: name, numPartitions: 3 }]).finally(() => admin.disconnect());
    const p = k.producer();
    await p.connect();
    for (let i = from; i < from + count; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(i + 1000, from + count); j++) messages.push({ value: body(j, bytes) });
      await p.send({ topic: name, acks: -1, messages });
    }
    await p.disconnect();
  },
  open: (name, o = {}) =>
    KafkaSource.open({ brokers: KAFKA_BROKERS, topic: name, groupId: `${name}-g`, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, commitIntervalMs: 500, ...(o.fixedPrefetch !== undefined ? { fetchSizing: 'fixed', partitionBuffer: o.fixedPrefetch } : {}) }),
  async cleanup(name) {
    const admin = new Kafka({ clientId: 'cleanup', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [name, `${name}.dead`] }).catch(() => undefined);
    await admin.disconnect();
  },
};

const sqsFx: Fixture = {
  async producer(name, throttle) {
    const p = new SqsProducer({ endpoint: SQS_ENDPOINT, credentials: sqsCredentials, ...(throttle ? { throttle } : {}) });
    return { send: async (i) => void (await p.send(name, body(i, 16).toString())), close: () => p.close() };
  },
  async fill(name, count, bytes, from = 0) {
    const c = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'us-east-1', credentials: sqsCredentials });
    const url = (await c.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    const batches: number[] = [];
    for (let i = from; i < from + count; i += 10) batches.push(i);
    for (let b = 0; b < batches.length; b += 20) {
      await Promise.all(batches.slice(b, b + 20).map((i) => c.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: Math.min(10, from + count - i) }, (_, k) => ({ Id: String(k), MessageBody: body(i + k, bytes).toString() })) }))));
    }
    c.destroy();
  },
  open: (name, o = {}) => SqsSource.open({ endpoint: SQS_ENDPOINT, credentials: sqsCredentials, queue: name, visibilityTimeoutS: Math.max(1, Math.round((o.redeliverMs ?? 30_000) / 1000)) }),
  async cleanup(name) {
    const c = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'us-east-1', credentials: sqsCredentials });
    for (const q of [name, `${name}-dead`]) {
      const url = await c.send(new GetQueueUrlCommand({ QueueName: q })).then((r) => r.QueueUrl, () => undefined);
      if (url !== undefined) await c.send(new DeleteQueueCommand({ QueueUrl: url }));
    }
    c.destroy();
  },
};

export const FIXTURES: Partial<Record<BrokerName, Fixture>> = { rabbitmq, jetstream: jetstreamFx, 'redis-streams': redisFx, kafka: kafkaFx, sqs: sqsFx };

export function fixture(broker: BrokerName): Fixture {
  const f = FIXTURES[broker];
  if (f === undefined) throw new Error(`no fixture for ${broker}`);
  return f;
}
