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
// Never pulled: the options are refused first. (A source without name and pull() is refused as an argument.)
const noSource = { name: 'none', pull: () => Promise.resolve() } as unknown as BrokerSource;
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

// Bad values, not only unknown keys: each is an InvalidOptionError naming the option, what it
// takes and what it got — before, a wrong type was ignored (its default used in silence), read
// as true, spread into characters, or failed later with a TypeError that named nothing.
describe('brokers: option values', () => {
  const src = { name: 'q', pull: () => new Promise<void>(() => undefined), lag: () => Promise.resolve(0), close: () => Promise.resolve() } as BrokerSource;
  const consumer = (o: unknown) => () => new BrokerConsumer(src, () => undefined, o as never);
  const cases: [string, () => unknown, string, RegExp][] = [
    ['BrokerConsumer', consumer({ onFailure: 5 }), 'onFailure', /^onFailure: expected an object \{ maxAttempts, baseDelayMs, maxDelayMs \}, received 5$/],
    ['BrokerConsumer', consumer({ onFailure: null }), 'onFailure', /received null$/],
    ['BrokerConsumer', consumer({ onError: 'log' }), 'onError', /^onError: expected a function, received "log"$/],
    ['BrokerConsumer', consumer({ onStop: true }), 'onStop', /^onStop: expected a function, received true$/],
    ['BrokerConsumer', consumer({ extendEveryMs: 3e9 }), 'extendEveryMs', /^extendEveryMs: expected a number in \(0, 2147483647\], received 3000000000$/],
    ['BrokerConsumer', consumer({ handlerTimeoutMs: '30s' }), 'handlerTimeoutMs', /^handlerTimeoutMs: expected a number in \(0, 2147483647\], received "30s"$/],
    ['BrokerConsumer', consumer({ handlerTimeoutMs: 0 }), 'handlerTimeoutMs', /^handlerTimeoutMs: expected a number in \(0, 2147483647\], received 0$/],
    ['BrokerConsumer.stop', () => new BrokerConsumer(src, () => undefined).stop({ graceMs: -1 }), 'graceMs', /^graceMs: expected a number in \[0, 2147483647\], received -1$/],
    ['FailurePolicy', () => new FailurePolicy({ baseDelayMs: Infinity, maxDelayMs: Infinity }), 'onFailure.baseDelayMs', /expected a number in \[0, 2147483647\], received Infinity/],
    ['PrefetchWindow', () => new PrefetchWindow('fast' as never), 'prefetch', /^prefetch: expected a number \(a fixed prefetch\) or an object \{ min, max, bufferMs, intervalMs \}, received "fast"$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 42, queue: 'q' })), 'url', /^url: expected a non-empty string, received 42$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', assertQueue: 'no' })), 'assertQueue', /^assertQueue: expected a boolean, received "no"$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', prefetch: 'fast' })), 'prefetch', /received "fast"$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', clock: {} })), 'clock', /^clock: expected a Clock \(an object with now\(\)\)/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', suspectQueue: '' })), 'suspectQueue', /^suspectQueue: expected a non-empty string, received ""$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', suspectQueue: 'q' })), 'suspectQueue', /^suspectQueue: expected a queue other than `queue` and `deadLetterQueue`, received "q"$/],
    ['RabbitmqSource', () => RabbitmqSource.open(loose({ url: 'amqp://127.0.0.1:1', queue: 'q', suspectQueue: 'q.dead' })), 'suspectQueue', /^suspectQueue: expected a queue other than `queue` and `deadLetterQueue`, received "q\.dead"$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', subjects: 'orders.*' })), 'subjects', /^subjects: expected a non-empty array of non-empty strings, received "orders\.\*"$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: [], stream: 's', consumer: 'c' })), 'servers', /^servers: expected a non-empty string or a non-empty array of non-empty strings, received an array of length 0$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: 4222, stream: 's', consumer: 'c' })), 'servers', /received 4222$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', ackWaitMs: Infinity })), 'ackWaitMs', /^ackWaitMs: expected a number in \[1000, 2147483647\], received Infinity$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', maxAckPending: Infinity })), 'maxAckPending', /received Infinity$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', expiresMs: Infinity })), 'expiresMs', /^expiresMs: expected a number in \[1000, 2147483647\], received Infinity$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', unavailableMs: -1 })), 'unavailableMs', /^unavailableMs: expected a number in \[0, 2147483647\], received -1$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', unavailableMs: '30s' })), 'unavailableMs', /^unavailableMs: expected a number in \[0, 2147483647\], received "30s"$/],
    ['JetstreamSource', () => JetstreamSource.open(loose({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', clock: {} })), 'clock', /^clock: expected a Clock \(an object with now\(\)\), received/],
    ['RedisStreamsSource', () => RedisStreamsSource.open(loose({ url: 42, stream: 's', group: 'g' })), 'url', /^url: expected a non-empty string, received 42$/],
    ['RedisStreamsSource', () => RedisStreamsSource.open(loose({ url: 'redis://127.0.0.1:1', stream: 's', group: 'g', claimIdleMs: Infinity })), 'claimIdleMs', /^claimIdleMs: expected a number in \[1, 9007199254740991\], received Infinity$/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', commitIntervalMs: Infinity })), 'commitIntervalMs', /^commitIntervalMs: expected a number in \(0, 2147483647\], received Infinity$/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', fromBeginning: 'yes' })), 'fromBeginning', /^fromBeginning: expected a boolean, received "yes"$/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', topicWaitMs: -1 })), 'topicWaitMs', /^topicWaitMs: expected a number in \[0, 2147483647\], received -1$/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', topicWaitMs: '10' })), 'topicWaitMs', /^topicWaitMs: expected a number in \[0, 2147483647\], received "10"$/],
    ['KafkaSource', () => KafkaSource.open(loose({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g', clientId: 7 })), 'clientId', /^clientId: expected a non-empty string, received 7$/],
    ['SqsSource', () => SqsSource.open(loose({ endpoint: 5, queue: 'q' })), 'endpoint', /^endpoint: expected a non-empty string, received 5$/],
    ['SqsSource', () => SqsSource.open(loose({ endpoint: 'http://127.0.0.1:1', queue: 'q', requestTimeoutMs: 0 })), 'requestTimeoutMs', /^requestTimeoutMs: expected an integer in \[1, 2147463647\], received 0$/],
    ['SqsSource', () => SqsSource.open(loose({ endpoint: 'http://127.0.0.1:1', queue: 'q', requestTimeoutMs: Infinity })), 'requestTimeoutMs', /^requestTimeoutMs: expected an integer in \[1, 2147463647\], received Infinity$/],
    // A Node timer's longest: with a receive's long poll on top, Node made the SDK's timer 1 ms (test/brokers-e2e/sqs-no-answer.test.ts).
    ['SqsSource', () => SqsSource.open(loose({ endpoint: 'http://127.0.0.1:1', queue: 'q', requestTimeoutMs: 2_147_483_647 })), 'requestTimeoutMs', /^requestTimeoutMs: expected an integer in \[1, 2147463647\], received 2147483647$/],
    ['SqsSource', () => SqsSource.open(loose({ client: {}, queue: 'q', requestTimeoutMs: 5000 })), 'requestTimeoutMs', /^requestTimeoutMs: expected absent when a client is given \(set your client's requestHandler: \{ requestTimeout, throwOnRequestTimeout: true \}\), received 5000$/],
    ['SqsProducer', () => new SqsProducer(loose({ endpoint: 'http://127.0.0.1:1', requestTimeoutMs: '5s' })), 'requestTimeoutMs', /^requestTimeoutMs: expected an integer in \[1, 2147463647\], received "5s"$/],
  ];
  for (const [owner, make, option, message] of cases) {
    it(`${owner} refuses a bad ${option}`, async () => {
      const e = await refusal(make);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
    });
  }

  it('a retry delay never exceeds what a Node timer keeps (past it, setTimeout fires after 1 ms)', () => {
    expect(new FailurePolicy({ maxAttempts: 100, baseDelayMs: 1000, maxDelayMs: Infinity }).decide(40, new Error('x'))).toEqual({ action: 'retry', delayMs: 2 ** 31 - 1 });
  });
});
