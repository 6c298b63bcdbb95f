// Unknown option keys of the broker layer — the consumer and its failure policy, the prefetch
// window, lag, scaling and throttle, every source and producer — are refused with core's
// option-error template naming the nearest known key; a source or producer refuses before it
// connects (no broker is needed here: the addresses point at closed ports).
import { describe, expect, it } from 'vitest';
import { BoundedProducer, BrokerConsumer, ConsumerScaling, FailurePolicy, LagMonitor, PrefetchWindow, ProducerThrottle } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { JetstreamProducer, JetstreamSource } from '../../src/jetstream/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';

/** The error a construction throws, or its promise rejects with (options typed loosely on purpose). */
async function refusal(make: () => unknown): Promise<InvalidOptionError> {
  try {
    await make();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  throw new Error('built without an error');
}

const loose = (o: Record<string, unknown>): never => o as never;
const noSource = {} as BrokerSource;
const lagSource = { name: 'q', lag: () => Promise.resolve(0) };

describe('brokers: unknown option keys', () => {
  const cases: [string, () => unknown, string, RegExp][] = [
    ['BrokerConsumer', () => new BrokerConsumer(noSource, () => undefined, loose({ concurency: 2 })), 'concurency', /^concurency: expected one of the BrokerConsumer options \(did you mean "concurrency"\?\), received 2$/],
    ['BrokerConsumer onFailure', () => new BrokerConsumer(noSource, () => undefined, loose({ onFailure: { maxAttemps: 3 } })), 'onFailure.maxAttemps', /one of the failure policy options \(did you mean "maxAttempts"\?\)/],
    ['FailurePolicy', () => new FailurePolicy(loose({ baseDelay: 10 })), 'onFailure.baseDelay', /did you mean "baseDelayMs"/],
    ['PrefetchWindow', () => new PrefetchWindow(loose({ mx: 10 })), 'prefetch.mx', /one of the prefetch options \(did you mean "max"\?\)/],
    ['LagMonitor', () => new LagMonitor(lagSource, loose({ interval: 100 })), 'interval', /one of the LagMonitor options \(did you mean "intervalMs"\?\)/],
    ['ConsumerScaling', () => new ConsumerScaling(loose({ monitor: new LagMonitor(lagSource), processed: () => 0, max: 4, drainSecs: 5 })), 'drainSecs', /did you mean "drainSeconds"/],
    ['ProducerThrottle', () => new ProducerThrottle(loose({ read: () => 0, slowAt: 1, rejectAt: 2, maxDelay: 5 })), 'maxDelay', /one of the ProducerThrottle options \(did you mean "maxDelayMs"\?\)/],
    ['BoundedProducer', () => new BoundedProducer('p', loose({ maxInflight: 5 })), 'maxInflight', /one of the BoundedProducer options \(did you mean "maxInFlight"\?\)/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', prefetch: { min: 1, maxx: 4 } })), 'prefetch.maxx', /did you mean "max"/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', deadLetter: 'd' })), 'deadLetter', /one of the RabbitmqSource options \(did you mean "deadLetterQueue"\?\)/],
    ['RabbitmqProducer', () => RabbitmqProducer.open(loose({ url: 'amqp://127.0.0.1:1', maxWaitng: 1 })), 'maxWaitng', /one of the RabbitmqProducer options \(did you mean "maxWaiting"\?\)/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', maxAckPeding: 10 })), 'maxAckPeding', /one of the JetstreamSource options \(did you mean "maxAckPending"\?\)/],
    ['JetstreamProducer', () => JetstreamProducer.open(loose({ server: '127.0.0.1:1' })), 'server', /one of the JetstreamProducer options \(did you mean "servers"\?\)/],
    ['RedisStreamsSource', () => RedisStreamsSource.open(loose({ url: 'redis://127.0.0.1:1', stream: 's', group: 'g', blokMs: 10 })), 'blokMs', /one of the RedisStreamsSource options \(did you mean "blockMs"\?\)/],
    ['RedisStreamsProducer', () => RedisStreamsProducer.open(loose({ url: 'redis://127.0.0.1:1', bodyFeld: 'b' })), 'bodyFeld', /one of the RedisStreamsProducer options \(did you mean "bodyField"\?\)/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', fromBegining: false })), 'fromBegining', /one of the KafkaSource options \(did you mean "fromBeginning"\?\)/],
    ['KafkaProducer', () => KafkaProducer.open(loose({ brokers: ['127.0.0.1:1'], ack: 1 })), 'ack', /one of the KafkaProducer options \(did you mean "acks"\?\)/],
    ['SqsSource', () => SqsSource.open(loose({ endpoint: 'http://127.0.0.1:1', queue: 'q', waitTime: 1 })), 'waitTime', /one of the SqsSource options \(did you mean "waitTimeS"\?\)/],
    ['SqsProducer', () => new SqsProducer(loose({ endpoint: 'http://127.0.0.1:1', regin: 'x' })), 'regin', /one of the SqsProducer options \(did you mean "region"\?\)/],
  ];
  for (const [owner, make, option, message] of cases) {
    it(`${owner} refuses ${option}`, async () => {
      const e = await refusal(make);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
    });
  }

  it("a producer's own keys and the bounded producer's pass together", async () => {
    const p = new SqsProducer({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', maxInFlight: 2, maxWaiting: 0 });
    expect(p.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
    await p.close();
    expect(() => new PrefetchWindow({ min: 1, max: 8, bufferMs: 100, intervalMs: 100 })).not.toThrow();
  });
});
