/**
 * An ioredis client for a stream source or producer: no reconnection while opening, so an
 * unreachable server is a BrokerUnavailableError now (credentials it refuses a BrokerRefusedError), naming it (with the socket's error, which
 * ioredis reports on its 'error' event rather than through connect()); reconnecting afterwards.
 */
import { Redis } from 'ioredis';
import { BrokerRefusedError, BrokerUnavailableError, connectRefusal } from '../brokers/broker-error.js';

export async function connectRedis(url: string, where: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null });
  let last: unknown;
  client.on('error', (err) => {
    last = err; // surfaced by the command that failed
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    const cause = last ?? err;
    const refusal = connectRefusal(cause);
    throw refusal === undefined ? new BrokerUnavailableError(where, cause) : new BrokerRefusedError(where, refusal, cause);
  }
  client.options.retryStrategy = (times) => (times > 20 ? null : Math.min(times * 100, 1000));
  return client;
}
