// One rule for an options argument that is not an object (null, a number, a string, an array),
// at every public entry point: InvalidArgumentError naming `options`, the owner, and what it got,
// as the core gates already did (options-object.test.ts). Before, the channel, the HTTP adapters
// and the broker sources threw InvalidOptionError for it, and the producers, the metrics
// adapters, the Redis store and quickConfig a TypeError ("Cannot read properties of null").
import { describe, expect, it } from 'vitest';
import { failure } from '../option-error.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { admission } from '../../src/express/index.js';
import { quickConfig } from '../../src/gateway/index.js';
import { HttpAdmission, withAdmission } from '../../src/http/index.js';
import { JetstreamProducer, JetstreamSource } from '../../src/jetstream/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { OtelMetrics } from '../../src/otel/index.js';
import { PrometheusMetrics } from '../../src/prometheus/index.js';
import { Channel } from '../../src/queue/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';

const src = { name: 'q', pull: () => new Promise<void>(() => undefined), lag: () => Promise.resolve(0), close: () => Promise.resolve() } as BrokerSource;

/** owner in the message, whether undefined is refused too, and the call (its source is the test's name). */
const entries: [string, boolean, (o: never) => unknown, string][] = [
  ['Channel', true, (o) => new Channel(o), 'new Channel(o)'],
  ['HttpAdmission', true, (o) => new HttpAdmission(o), 'new HttpAdmission(o)'],
  ['HttpAdmission', true, (o) => withAdmission(o, () => undefined), 'withAdmission(o, () => undefined)'],
  ['HttpAdmission', true, (o) => admission(o), 'admission(o)'],
  ['BrokerConsumer', false, (o) => new BrokerConsumer(src, () => undefined, o), 'new BrokerConsumer(src, () => undefined, o)'],
  ['stop', false, (o) => new BrokerConsumer(src, () => undefined).stop(o), 'new BrokerConsumer(src, () => undefined).stop(o)'],
  ['RabbitmqSource', true, (o) => RabbitmqSource.open(o), 'RabbitmqSource.open(o)'],
  ['JetstreamSource', true, (o) => JetstreamSource.open(o), 'JetstreamSource.open(o)'],
  ['RedisStreamsSource', true, (o) => RedisStreamsSource.open(o), 'RedisStreamsSource.open(o)'],
  ['KafkaSource', true, (o) => KafkaSource.open(o), 'KafkaSource.open(o)'],
  ['SqsSource', true, (o) => SqsSource.open(o), 'SqsSource.open(o)'],
  ['RabbitmqProducer', false, (o) => RabbitmqProducer.open(o), 'RabbitmqProducer.open(o)'],
  ['JetstreamProducer', false, (o) => JetstreamProducer.open(o), 'JetstreamProducer.open(o)'],
  ['RedisStreamsProducer', false, (o) => RedisStreamsProducer.open(o), 'RedisStreamsProducer.open(o)'],
  ['KafkaProducer', true, (o) => KafkaProducer.open(o), 'KafkaProducer.open(o)'],
  ['SqsProducer', false, (o) => new SqsProducer(o), 'new SqsProducer(o)'],
  ['OtelMetrics', false, (o) => new OtelMetrics(o), 'new OtelMetrics(o)'],
  ['PrometheusMetrics', true, (o) => new PrometheusMetrics(o), 'new PrometheusMetrics(o)'],
  ['RedisStore', false, (o) => new RedisStore(o), 'new RedisStore(o)'],
  ['RedisStore', false, (o) => RedisStore.connect(o), 'RedisStore.connect(o)'],
  ['quickConfig', true, (o) => quickConfig(o), 'quickConfig(o)'],
];


describe('an options argument that is not an object', () => {
  for (const [owner, required, call, label] of entries) {
    it(`${owner}: ${label}`, async () => {
      const bad: unknown[] = [null, 5, 'x', []];
      if (required) bad.push(undefined);
      for (const value of bad) {
        const err = await failure(() => call(value as never));
        expect(err, String(value)).toBeInstanceOf(InvalidArgumentError);
        expect(err).not.toBeInstanceOf(InvalidOptionError);
        expect((err as InvalidArgumentError).argument).toBe('options');
        expect((err as Error).message).toMatch(new RegExp(`^options: expected an object of ${owner} options, received `));
      }
    });
  }

  it('a handler that is not a function is an InvalidArgumentError naming handler (was a TypeError)', () => {
    expect(() => new BrokerConsumer(src, 5 as never)).toThrow(InvalidArgumentError);
    expect(() => new BrokerConsumer(src, 5 as never)).toThrow('handler: expected a function, received 5');
  });

  it("KafkaProducer's acks out of its set is an InvalidOptionError naming acks (was a TypeError)", async () => {
    const err = await failure(() => KafkaProducer.open({ brokers: ['127.0.0.1:1'], acks: 2 as never }));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe('acks: expected -1, 0 or 1, received 2');
  });
});
