// What isolating a poison costs on a classic queue with a large prefetch: 1,000 messages, a fixed
// prefetch of 200, the 6th message the poison — its handler cuts the consumer's connection (a TCP
// relay: the broker sees the consumer die, everything it held unacknowledged comes back
// `redelivered`), and a fresh consumer starts after each death. Counted: the rounds (suspects
// handed out alone, source.isolatedSuspects) until the poison is dead-lettered. Every other
// message is handled, none dead-lettered, nothing left.
// Before (the queue consumed while suspects waited): 803 rounds — each death sent the 200 the
// prefetch held beside the lone suspect to the suspect queue, and the poison's counted copy
// queued behind them. After: 203 (the first death's ~200 suspects, each once).
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { deleteRabbitQueues, rabbitmq, unique, until } from '../brokers/services.js';
import { TcpCut } from './tcp-cut.js';

const svc = await rabbitmq();
const COUNT = 1000;
const PREFETCH = 200;
const MAX_ATTEMPTS = 3;

describe.skipIf(!svc.up)('rabbitmq: the rounds a poison costs with a large prefetch', () => {
  it(`classic queue, ${COUNT} messages, prefetch ${PREFETCH}: a poison is dead-lettered after ${MAX_ATTEMPTS} deaths alone, in at most ${COUNT / 2} rounds`, async () => {
    const queue = unique('rounds');
    const u = new URL(svc.url);
    const conn = await amqp.connect(svc.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < COUNT; i++) ch.sendToQueue(queue, Buffer.from(i === 5 ? 'poison' : `m${i}`), { persistent: true });
    await ch.waitForConfirms();
    const handled = new Set<string>();
    let rounds = 0;
    let deaths = 0;
    const deadLettered: string[] = [];
    try {
      for (let start = 0; start < 8; start++) {
        const cut = await TcpCut.open({ host: u.hostname, port: Number(u.port) });
        const source = await RabbitmqSource.open({ url: `amqp://${u.username}:${u.password}@127.0.0.1:${cut.port}`, queue, prefetch: PREFETCH });
        const c = new BrokerConsumer(source, async (d) => {
          const body = Buffer.from(d.body).toString();
          if (body === 'poison') {
            await cut.cut(); // the process "dies": its connection gone, nothing it held settled
            throw new Error('died');
          }
          handled.add(body);
        }, { concurrency: 4, onFailure: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 0, maxDelayMs: 0 } });
        const dlq = async (): Promise<boolean> => (await ch.checkQueue(`${queue}.dead`)).messageCount > 0;
        const done = async (): Promise<boolean> => handled.size === COUNT - 1 && (await dlq());
        await until(async () => c.stats().state !== 'running' || (await done()), 60_000);
        rounds += source.isolatedSuspects;
        if (c.stats().state !== 'running') deaths++;
        await c.stop({ graceMs: 0 }).catch(() => undefined);
        await cut.cut();
        if (await done()) break;
      }
      for (let m = await ch.get(`${queue}.dead`, { noAck: true }); m !== false; m = await ch.get(`${queue}.dead`, { noAck: true })) deadLettered.push(m.content.toString());
      const why = JSON.stringify({ rounds, deaths, deadLettered, handled: handled.size });
      console.log(`rounds ${rounds}, deaths ${deaths}`);
      expect(deadLettered, why).toEqual(['poison']);
      expect(deaths, why).toBe(1 + MAX_ATTEMPTS);
      expect(handled.size, why).toBe(COUNT - 1);
      expect((await ch.checkQueue(queue)).messageCount, why).toBe(0);
      expect(rounds, why).toBeLessThanOrEqual(COUNT / 2);
    } finally {
      await deleteRabbitQueues(ch, queue).catch(() => undefined);
      await conn.close();
    }
  }, 240_000);
});
