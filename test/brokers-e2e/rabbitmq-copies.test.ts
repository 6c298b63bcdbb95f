// RabbitMQ's copies (a retry's, a dead letter's) when the server closes the channel they go
// through: on a vhost of this file's own, the user's write permission is taken away after
// open(), so the copy's publish is refused with 403 ACCESS_REFUSED — which closes that channel.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { deleteRabbitQueues, rabbitmq, unique } from '../brokers/services.js';
import { ctl, haveCtl, vhostUrl } from './rabbitmq-ctl.js';

const svc = await rabbitmq();
const VHOST = 'sluice-copies';
const can = haveCtl(svc, 'RABBITMQ COPIES TESTS');
const url = can ? vhostUrl(svc, VHOST) : '';
const user = can ? new URL(svc.url).username || 'guest' : '';

/** Configure, write, read for the user on this file's vhost. */
function permit(write: string): void {
  if (!ctl('set_permissions', '-p', VHOST, user, '.*', write, '.*')) throw new Error('rabbitmqctl set_permissions failed');
}

async function publish(queue: string, body: string): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await ch.waitForConfirms();
  await c.close();
}

/** Messages on `queue` now, then the queue and its dead-letter queue deleted. */
async function drain(queue: string): Promise<string[]> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  const out: string[] = [];
  for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) out.push(m.content.toString());
  await deleteRabbitQueues(ch, queue);
  await c.close();
  return out;
}

describe.skipIf(!can)('rabbitmq: the channel of the copies closed by the server', () => {
  it('a copy refused with 403 closes its channel: the consumer fails (BrokerUnavailableError naming it, connection down) and the message is back on its queue — before: the unwatched channel error tore the connection down and the consumer failed with "Channel ended, no reply will be forthcoming", naming nothing', async () => {
    const queue = unique('copy-403');
    await publish(queue, 'poison');
    const source = await RabbitmqSource.open({ url, queue });
    permit('^$'); // nothing may be published now
    let runs = 0;
    const c = new BrokerConsumer(source, () => {
      runs++;
      throw new Error('always fails');
    }, { onFailure: { maxAttempts: 1, baseDelayMs: 0 } });
    try {
      const end = await Promise.race([c.done.then(() => 'resolved', (e: unknown) => e), new Promise((r) => setTimeout(() => r('still running'), 8000))]);
      expect(end).toBeInstanceOf(BrokerUnavailableError);
      expect((end as Error).message).toMatch(/ACCESS_REFUSED/);
      expect(c.stats()).toMatchObject({ state: 'failed', connection: 'down', deadLettered: 0 });
      expect(runs).toBe(1);
    } finally {
      permit('.*');
      await c.stop();
    }
    expect(await drain(queue)).toEqual(['poison']);
  });
});
