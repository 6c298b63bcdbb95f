// A consumer says what state it is in, and a broker failure nobody awaited does not end the
// process. The server-side close goes through `rabbitmqctl close_all_connections` on a vhost of
// this file's own, so no other client of the broker is touched.
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { deleteRabbitQueues, rabbitmq, unique, until } from '../brokers/services.js';
import { ctl, haveCtl, vhostUrl } from './rabbitmq-ctl.js';

const svc = await rabbitmq();
const VHOST = 'sluice-consumer-state';
const can = haveCtl(svc, 'CONSUMER STATE TESTS');
const url = can ? vhostUrl(svc, VHOST) : '';

async function deleteQueue(queue: string): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  await deleteRabbitQueues(ch, queue);
  await c.close();
}

/** Every unhandled rejection while a test runs (vitest's own listener still sees them too). */
const unhandled: unknown[] = [];
const record = (reason: unknown): void => void unhandled.push(reason);

describe.skipIf(!can)('a consumer\'s state, and a failure nobody awaited', () => {
  afterEach(() => {
    process.off('unhandledRejection', record);
    unhandled.length = 0;
  });

  it('the connection closed by the server, done never awaited: no unhandled rejection (before: BrokerUnavailableError ended the process), state failed, onStop told the error', async () => {
    process.on('unhandledRejection', record);
    const queue = unique('unobserved');
    const told: unknown[] = [];
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue }), () => undefined, { onStop: (e) => told.push(e) });
    expect(c.stats().state).toBe('running');
    expect(ctl('close_all_connections', '-p', VHOST, 'sluice consumer-state test')).toBe(true);
    expect(await until(() => c.stats().state === 'failed')).toBe(true);
    // Node reports an unhandled rejection after the microtasks of the turn it happened in: give it turns.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    expect(told).toHaveLength(1);
    expect(told[0]).toBeInstanceOf(BrokerUnavailableError);
    expect(c.stats()).toMatchObject({ state: 'failed', connection: 'down' });
    // Who does await it still hears of the failure.
    await expect(c.done).rejects.toBeInstanceOf(BrokerUnavailableError);
    await deleteQueue(queue);
  });

  it('stop(): stopping while a handler runs, then stopped, and onStop told undefined', async () => {
    const queue = unique('stopped');
    const c0 = await amqp.connect(url);
    const ch = await c0.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    ch.sendToQueue(queue, Buffer.from('one'), { persistent: true });
    await ch.waitForConfirms();
    await c0.close();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const told: unknown[] = [];
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue }), () => gate, { onStop: (e) => told.push(e) });
    expect(await until(() => c.stats().inFlight === 1)).toBe(true);
    const stopped = c.stop();
    expect(c.stats().state).toBe('stopping');
    release();
    await stopped;
    expect(c.stats()).toMatchObject({ state: 'stopped', acked: 1 });
    expect(told).toEqual([undefined]);
    await c.done;
    await deleteQueue(queue);
  });
});
