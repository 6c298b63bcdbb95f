// stop() while the broker itself is gone — a Kafka and an ElasticMQ of the test's own (own-jvm.ts),
// SIGKILLed by PID, then started again on the same port and data: the stop settles within the
// bound docs/brokers.md states, says what did not reach the broker, and loses nothing — what was
// not acknowledged on the broker is delivered again once it is back (a duplicate is allowed, a
// loss is not). stop-in-outage.test.ts does the same for RabbitMQ, JetStream and Redis Streams
// with a TCP relay cut in front of the shared servers. Runs where the shared Kafka and ElasticMQ
// run (the scripts that start them start these).
import { describe, expect, it } from 'vitest';
import type { BrokerConsumerStats, BrokerSource, Delivery } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { kafka as kafkaService, sqs as sqsService, unique, until } from '../brokers/services.js';
import type { OwnJvm } from './own-jvm.js';
import { ownJvmForFile } from './own-jvm.js';
import { holdingConsumer, timedStop } from './timed-stop.js';
import { OWN_ELASTICMQ_START_MS, OwnElasticmq } from './own-elasticmq.js';
import { OWN_KAFKA_START_MS, OwnKafka } from './own-kafka.js';

const [kafkaSvc, sqsSvc] = await Promise.all([kafkaService(), sqsService()]);
const text = (d: Delivery): string => Buffer.from(d.body).toString();

/**
 * What docs/brokers.md promises ("stop() during an outage"), with 1 s for a busy machine. SQS: at
 * once (the delete and the receive are refused). Kafka: its last commit fails once kafkajs gives
 * up (3 retries from 100 ms), then the client disconnects at once (measured 0.4 s busy, 0 idle).
 */
const SQS_MS = { busy: 1000 + 1000, idle: 1000 + 1000 };
const KAFKA_MS = { busy: 2000 + 1000, idle: 1000 + 1000 };

interface Case {
  /** How long stop() may take, busy (a handler finishing during the stop) and idle. */
  readonly boundMs: { readonly busy: number; readonly idle: number };
  readonly open: () => Promise<BrokerSource>;
  /** The client notices the broker gone on its own (kafkajs: a crash it restarts from): stop once it has. */
  readonly crashes: boolean;
  readonly publish: (body: string) => Promise<void>;
  /** Resolves once 'first', acked, is settled on the broker (Kafka: its offset committed). */
  readonly settled: (source: BrokerSource) => Promise<void>;
  /** What the stop must say, busy or idle: the consumer's stats, and the source's own where it has more to say. */
  readonly after: (busy: boolean, source: BrokerSource, why: string) => Partial<BrokerConsumerStats>;
  /** Messages not acknowledged on the broker, by a fresh consumer once it is back (until `expected` all came, or its time ran out). */
  readonly redeliver: (expected: readonly string[]) => Promise<string[]>;
}

/**
 * Consume; `busy`: the handler holds 'held' until the broker is killed, then finishes during the
 * stop (its ack cannot reach the broker); else the consumer is idle, its pull waiting. Check the
 * stop's bound and what it says; then start the broker again: 'held' is delivered again.
 */
async function stopWhileDown(own: OwnJvm, c: Case, busy: boolean): Promise<void> {
  const source = await c.open();
  const { consumer, seen, release } = holdingConsumer(source);
  const bound = busy ? c.boundMs.busy : c.boundMs.idle;
  try {
    await c.publish('first');
    expect(await until(() => consumer.stats().acked === 1, 60_000)).toBe(true);
    await c.settled(source);
    if (busy) {
      await c.publish('held');
      expect(await until(() => seen.includes('held'), 60_000)).toBe(true);
    }
    await own.kill();
    if (c.crashes) {
      // kafkajs crashed and restarts (its runner stopped): the stop's commit meets that state.
      expect(await until(() => consumer.stats().connection === 'reconnecting', 60_000)).toBe(true);
    } else {
      await new Promise((r) => setTimeout(r, 300)); // the client has seen it go
    }
    const why = await timedStop(consumer, release, bound);
    expect(consumer.stats(), why).toMatchObject({ received: busy ? 2 : 1, held: 0, connection: 'down', ...c.after(busy, source, why) });
  } finally {
    release();
    await consumer.stop({ graceMs: 0 }).catch(() => undefined);
    await own.restart();
  }
  // Nothing lost: the broker has it still, and delivers it again ('first' may come too: at least once).
  if (busy) expect((await c.redeliver(['held'])).filter((m) => m !== 'first')).toEqual(['held']);
}

/** Take what comes from a fresh source, each acked as it comes, until `expected` all came or `ms` passed; close. */
async function drain(source: BrokerSource, expected: readonly string[], ms: number): Promise<string[]> {
  const got: string[] = [];
  const acks: Promise<void>[] = [];
  const signal = AbortSignal.timeout(ms);
  try {
    while (!signal.aborted && !expected.every((e) => got.includes(e))) await source.pull(10, (d) => (got.push(text(d)), acks.push(d.ack())), signal);
    await Promise.all(acks);
  } finally {
    await source.close();
  }
  return got;
}

describe.skipIf(!kafkaSvc.up)('kafka: stop() while the broker is down', () => {
  const own = ownJvmForFile(() => OwnKafka.start(), OWN_KAFKA_START_MS);

  function kafkaCase(): Case {
    const topic = unique('kstop');
    const open = (): Promise<KafkaSource> => KafkaSource.open({ brokers: own().brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 });
    return {
      boundMs: KAFKA_MS,
      crashes: true,
      open,
      publish: async (b) => {
        const p = await KafkaProducer.open({ brokers: own().brokers });
        await p.send(topic, b);
        await p.close();
      },
      settled: async (s) => void expect(await until(async () => (await s.lag()) === 0, 30_000)).toBe(true),
      // Kafka's ack is local (the offset is committed later): 'held' counts acked, and the source
      // says its offset never reached the broker. Before, kafkajs resolved the commit it did not
      // send (its consumer not running after the crash) and the source took it as stored:
      // uncommitted 0, no commit error, nothing said.
      after: (busy, s, why) => {
        const k = (s as KafkaSource).stats();
        why = `${why} ${JSON.stringify(k)}`;
        expect(k, why).toMatchObject({ uncommitted: busy ? 1 : 0 });
        if (busy) expect(k.commitErrors, why).toBeGreaterThan(0);
        return { acked: busy ? 2 : 1, settleErrors: 0, state: 'stopped' };
      },
      redeliver: async (expected) => drain(await open(), expected, 60_000), // the group rejoined first
    };
  }

  for (const busy of [false, true]) {
    it(`${busy ? 'a handler finishing during the stop (its commit lost)' : 'idle, its fetch waiting'}`, async () => {
      await stopWhileDown(own(), kafkaCase(), busy);
    }, 300_000);
  }
});

describe.skipIf(!sqsSvc.up)('sqs (ElasticMQ): stop() while the server is down', () => {
  const own = ownJvmForFile(() => OwnElasticmq.start(), OWN_ELASTICMQ_START_MS);

  const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
  function sqsCase(): Case {
    const queue = unique('sstop');
    const open = (): Promise<SqsSource> => SqsSource.open({ endpoint: own().endpoint, credentials, queue, visibilityTimeoutS: 2, waitTimeS: 1 });
    return {
      boundMs: SQS_MS,
      crashes: false,
      open,
      publish: async (b) => {
        const p = new SqsProducer({ endpoint: own().endpoint, credentials });
        await p.send(queue, b);
        await p.close();
      },
      settled: () => new Promise((r) => setTimeout(r, 500)),
      // The delete refused (nothing listens): a settle error, not acked.
      after: (busy) => ({ acked: 1, settleErrors: busy ? 1 : 0, state: 'stopped' }),
      redeliver: async (expected) => drain(await open(), expected, 30_000), // visible again 2 s after its receive
    };
  }

  for (const busy of [false, true]) {
    it(`${busy ? 'a handler finishing during the stop (its delete lost)' : 'idle, its receive waiting'}`, async () => {
      await stopWhileDown(own(), sqsCase(), busy);
    }, 300_000);
  }
});
