// Handlers that fail in odd ways, on RabbitMQ (the consumer's bookkeeping is the same on every
// broker): one that throws synchronously, rejects with undefined, with a string, with an object
// that has no prototype (String() of it throws), with a Symbol. Each message is dead-lettered
// with a reason that says what was thrown, and the consumer goes on with the next. Before, the
// object without a prototype made describeError throw inside the consumer, which failed the
// whole consumer (done rejected "Cannot convert object to primitive value").
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { rabbitmq, unique, until } from '../brokers/services.js';
import { AMQP_URL, fixture } from './fixtures.js';

const svc = await rabbitmq();

const FAILURES: Record<string, () => unknown> = {
  sync: () => {
    throw new TypeError('bad encoding');
  },
  undef: () => Promise.reject(undefined), // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors
  text: () => Promise.reject('plain string'), // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors
  bare: () => Promise.reject(Object.assign(Object.create(null) as object, { code: 7 })), // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors
  symbol: () => Promise.reject(Symbol('odd')), // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors
};

describe.skipIf(!svc.up)('handlers failing in odd ways', () => {
  it('each message dead-lettered with what was thrown, the consumer still running, nothing held', async () => {
    const queue = unique('odd');
    const names = [...Object.keys(FAILURES), 'fine'];
    const c0 = await amqp.connect(AMQP_URL);
    const ch = await c0.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (const n of names) ch.sendToQueue(queue, Buffer.from(n));
    await ch.waitForConfirms();
    const source = await RabbitmqSource.open({ url: AMQP_URL, queue, prefetch: 10 });
    const handled: string[] = [];
    const c = new BrokerConsumer(
      source,
      (d) => {
        const n = Buffer.from(d.body).toString();
        handled.push(n);
        return FAILURES[n]?.();
      },
      { concurrency: 2, onFailure: { maxAttempts: 1 } },
    );
    try {
      await until(() => c.stats().deadLettered + c.stats().acked === names.length || c.stats().state !== 'running', 20_000);
      const error = await Promise.race([c.done.then(() => 'done', (e: unknown) => String(e)), new Promise((r) => setTimeout(() => r('running'), 200))]);
      expect({ ...c.stats(), error }).toMatchObject({ state: 'running', error: 'running', acked: 1, deadLettered: 5, failed: 5, settleErrors: 0 });
      const reasons = new Map<string, string>();
      for (let m = await ch.get(`${queue}.dead`, { noAck: true }); m !== false; m = await ch.get(`${queue}.dead`, { noAck: true })) {
        reasons.set(m.content.toString(), String(m.properties.headers?.['x-sluice-error']));
      }
      expect(Object.fromEntries(reasons)).toEqual({
        sync: 'TypeError: bad encoding (attempt 1 of 1)',
        undef: 'thrown: undefined (attempt 1 of 1)',
        text: 'thrown: plain string (attempt 1 of 1)',
        bare: 'thrown: [object Object] (attempt 1 of 1)',
        symbol: 'thrown: Symbol(odd) (attempt 1 of 1)',
      });
    } finally {
      await c.stop({ graceMs: 5000 });
      await c0.close();
      await fixture('rabbitmq').cleanup(queue);
    }
    expect(c.stats()).toMatchObject({ state: 'stopped', held: 0 });
  });
});
