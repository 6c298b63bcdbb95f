// Each adapter's factory given a value of the wrong kind for one of its connection options, or a
// throttle that is no throttle: an InvalidOptionError naming the option, what it takes and what
// it got, before anything connects (the addresses point at closed ports; no broker is needed).
// Before, these went through: a producer's url, servers, bodyField or clientId reached the
// client library as given ('Invalid argument true' from ioredis, 'Region is missing' from the AWS
// SDK, an SqsProducer made with `client: {}` that failed at its first send), and a throttle
// without admit() failed every publish with a TypeError.
import { describe, expect, it } from 'vitest';
import { JetstreamProducer } from '../../src/jetstream/index.js';
import { KafkaProducer } from '../../src/kafka/index.js';
import { RabbitmqProducer } from '../../src/rabbitmq/index.js';
import { RedisStreamsProducer } from '../../src/redis-streams/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { failure } from '../option-error.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { sqsClient } from '../../src/sqs/sqs-connection.js';

type Make = (options: Record<string, unknown>) => unknown;

const adapters: [string, Make, Record<string, unknown>][] = [
  ['JetstreamProducer', (o) => JetstreamProducer.open(o as never), { servers: '127.0.0.1:1' }],
  ['RabbitmqProducer', (o) => RabbitmqProducer.open(o as never), { url: 'amqp://127.0.0.1:1' }],
  ['RedisStreamsProducer', (o) => RedisStreamsProducer.open(o as never), { url: 'redis://127.0.0.1:1' }],
  ['KafkaProducer', (o) => KafkaProducer.open(o as never), { brokers: ['127.0.0.1:1'] }],
  ['SqsProducer', (o) => new SqsProducer(o as never), { endpoint: 'http://127.0.0.1:1' }],
  ['SqsSource', (o) => SqsSource.open(o as never), { endpoint: 'http://127.0.0.1:1', queue: 'q' }],
];

/** [adapter, option, value, the message expected]. */
const cases: [string, string, unknown, RegExp][] = [
  ['JetstreamProducer', 'servers', '', /^servers: expected a non-empty string or a non-empty array of non-empty strings, received ""$/],
  ['JetstreamProducer', 'servers', [], /received an array of length 0$/],
  ['JetstreamProducer', 'servers', NaN, /received NaN$/],
  ['JetstreamProducer', 'servers', {}, /^servers: expected a non-empty string/],
  ['RabbitmqProducer', 'url', '', /^url: expected a non-empty string, received ""$/],
  ['RabbitmqProducer', 'url', 5672, /^url: expected a non-empty string, received 5672$/],
  ['RabbitmqProducer', 'url', {}, /^url: expected a non-empty string/],
  ['RedisStreamsProducer', 'url', true, /^url: expected a non-empty string, received true$/],
  ['RedisStreamsProducer', 'url', '', /^url: expected a non-empty string, received ""$/],
  ['RedisStreamsProducer', 'bodyField', '', /^bodyField: expected a non-empty string, received ""$/],
  ['RedisStreamsProducer', 'bodyField', 7, /^bodyField: expected a non-empty string, received 7$/],
  ['KafkaProducer', 'clientId', '', /^clientId: expected a non-empty string, received ""$/],
  ['KafkaProducer', 'clientId', 3, /^clientId: expected a non-empty string, received 3$/],
  ['SqsProducer', 'endpoint', 5, /^endpoint: expected a non-empty string, received 5$/],
  ['SqsProducer', 'region', '', /^region: expected a non-empty string, received ""$/],
  ['SqsProducer', 'region', NaN, /^region: expected a non-empty string, received NaN$/],
  ['SqsProducer', 'credentials', 'AKIA:secret', /^credentials: expected an object \{ accessKeyId, secretAccessKey \} of non-empty strings \(or a credentials provider function\), received "AKIA:secret"$/],
  ['SqsProducer', 'credentials', { accessKeyId: 'a' }, /^credentials: expected an object \{ accessKeyId, secretAccessKey \}/],
  ['SqsProducer', 'client', {}, /^client: expected an SQSClient \(an object with send\(\)\), received/],
  ['SqsProducer', 'client', 'sqs', /^client: expected an SQSClient \(an object with send\(\)\), received "sqs"$/],
  ['SqsSource', 'credentials', null, /^credentials: expected an object \{ accessKeyId, secretAccessKey \}.*received null$/],
  ['SqsSource', 'credentials', { accessKeyId: 'a', secretAccessKey: 5 }, /^credentials: expected an object/],
  ['SqsSource', 'client', {}, /^client: expected an SQSClient \(an object with send\(\)\), received/],
  ['SqsSource', 'client', 1.5, /^client: expected an SQSClient \(an object with send\(\)\), received 1\.5$/],
  ['SqsSource', 'region', {}, /^region: expected a non-empty string, received/],
];
// Every producer takes a throttle: one without admit() is no throttle.
for (const [name] of adapters.filter(([n]) => n.endsWith('Producer'))) {
  cases.push([name, 'throttle', {}, /^throttle: expected a ProducerThrottle \(an object with admit\(\)\), received/]);
  cases.push([name, 'throttle', 'slow', /^throttle: expected a ProducerThrottle \(an object with admit\(\)\), received "slow"$/]);
  cases.push([name, 'throttle', null, /^throttle: expected a ProducerThrottle \(an object with admit\(\)\), received null$/]);
}

describe('broker adapters: a connection option of the wrong kind is an option error naming it', () => {
  for (const [name, option, value, message] of cases) {
    const [, make, base] = adapters.find(([n]) => n === name)!;
    it(`${name} { ${option}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)} }`, async () => {
      const err = await failure(() => make({ ...base, [option]: value }));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(option);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('a credentials provider function and a throttle-like object with admit() are taken', async () => {
    const p = new SqsProducer({ endpoint: 'http://127.0.0.1:1', credentials: (() => Promise.resolve({ accessKeyId: 'a', secretAccessKey: 'b' })) as never, throttle: { admit: () => Promise.resolve() } as never });
    await p.close();
  });

  // Taken, then made `{}` by a spread ({ ...fn } has no keys): the SDK signed with no credentials.
  it('a credentials provider function is what the SQS client signs with', async () => {
    for (const credentials of [() => Promise.resolve({ accessKeyId: 'AK', secretAccessKey: 'SK' }), { accessKeyId: 'AK', secretAccessKey: 'SK' }]) {
      const client = sqsClient({ endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', credentials });
      await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AK', secretAccessKey: 'SK' });
      client.destroy();
    }
  });
});
