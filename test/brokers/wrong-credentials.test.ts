// Credentials the broker refuses, at open(): a BrokerRefusedError ('credentials') naming the
// broker's URL with the password hidden — as Kafka and SQS already said — not a
// BrokerUnavailableError calling a running broker "unreachable" (what RabbitMQ and Redis said).
import { describe, expect, it } from 'vitest';
import { BrokerRefusedError } from '../../src/brokers/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { rabbitmq, redis, unique } from './services.js';

const amqp = await rabbitmq();
const rds = await redis();

/** The URL with a password the broker does not take. */
function withPassword(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString().replace(/\/$/, '');
}

async function refusal(open: () => Promise<{ close(): Promise<void> }>): Promise<unknown> {
  return open().then(async (s) => { await s.close(); return undefined; }, (e: unknown) => e);
}

function expectRefused(err: unknown, where: RegExp): void {
  expect(err).toBeInstanceOf(BrokerRefusedError);
  expect((err as BrokerRefusedError).refusal).toBe('credentials');
  expect((err as Error).message).toMatch(where);
  expect((err as Error).message).not.toContain('s3cret-pw');
}

describe.skipIf(!amqp.up)('rabbitmq: wrong credentials', () => {
  const url = withPassword(amqp.url, 'guest', 's3cret-pw');
  it('the source: BrokerRefusedError naming the URL without its password', async () => {
    expectRefused(await refusal(() => RabbitmqSource.open({ url, queue: unique('creds') })), /^rabbitmq at amqp:\/\/guest:\*\*\*@[^ ]+: refused the credentials \(.*ACCESS.REFUSED/);
  });
  it('the producer: the same', async () => {
    expectRefused(await refusal(() => RabbitmqProducer.open({ url })), /amqp:\/\/guest:\*\*\*@[^ ]+: refused the credentials/);
  });
});

describe.skipIf(!rds.up)('redis streams: wrong credentials', () => {
  const url = withPassword(rds.url, 'nobody', 's3cret-pw');
  it('the source: BrokerRefusedError naming the URL without its password', async () => {
    expectRefused(await refusal(() => RedisStreamsSource.open({ url, stream: unique('creds'), group: 'g' })), /^redis-streams at redis:\/\/nobody:\*\*\*@[^ ]+: refused the credentials \(.*WRONGPASS/);
  });
  it('the producer: the same', async () => {
    expectRefused(await refusal(() => RedisStreamsProducer.open({ url })), /redis:\/\/nobody:\*\*\*@[^ ]+: refused the credentials/);
  });
});
