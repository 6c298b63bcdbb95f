// Big messages on RabbitMQ: the prefetch counts messages (RabbitMQ ignores basic.qos
// prefetch-size), so 16 handlers' worth of 256 KiB bodies is 4 MiB in hand, and the adaptive
// prefetch's default max (1000) would let a fast consumer hold 1000 of them. maxHeldBytes holds
// the prefetch at what fits. Before, there was no such bound (the option was refused as unknown).
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import type { RabbitmqSourceOptions } from '../../src/rabbitmq/index.js';
import { rabbitmq, unique, until } from '../brokers/services.js';
import { fixture } from './fixtures.js';

const svc = await rabbitmq();
const url = svc.url;
const KIB256 = 256 * 1024;

async function fill(queue: string, count: number): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.alloc(KIB256, i % 10), { persistent: false });
  await ch.waitForConfirms();
  await c.close();
}

/** The queue and its dead-letter queue deleted. */
const cleanup = (queue: string): Promise<void> => fixture('rabbitmq').cleanup(queue);

/** 30 bodies of 256 KiB, 16 handlers that hold theirs: what the source holds once it stopped taking. */
async function holding(extra: Partial<RabbitmqSourceOptions>): Promise<{ heldBytes: number; received: number; ready: number }> {
  const queue = unique('big');
  await fill(queue, 30);
  const source = await RabbitmqSource.open({ url, queue, ...extra });
  let release!: () => void;
  const stuck = new Promise<void>((r) => (release = r));
  const c = new BrokerConsumer(source, () => stuck, { concurrency: 16 });
  try {
    // Settled: the same figures twice, 300 ms apart.
    let last = '';
    await until(async () => {
      const now = `${c.stats().received}/${source.heldBytes}/${await source.lag()}`;
      const same = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 300));
      return same && c.stats().received > 0;
    }, 15_000);
    const r = { heldBytes: source.heldBytes, received: c.stats().received, ready: await source.lag() };
    release();
    expect(await until(() => c.stats().acked === 30, 20_000)).toBe(true);
    expect(source.heldBytes).toBe(0);
    return r;
  } finally {
    release();
    await c.stop();
    await cleanup(queue);
  }
}

describe.skipIf(!svc.up)('rabbitmq: maxHeldBytes', () => {
  it('1 MiB: 4 bodies of 256 KiB held, the other 26 left on the broker; without it all 16 handlers\' worth (4 MiB) is taken', async () => {
    const bounded = await holding({ maxHeldBytes: 1024 * 1024 });
    expect(bounded.heldBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(bounded.received).toBeGreaterThanOrEqual(1);
    expect(bounded.ready).toBeGreaterThanOrEqual(26);
    const open = await holding({});
    expect(open.heldBytes).toBe(16 * KIB256);
    expect(open.received).toBe(16);
  }, 90_000);

  it('a fixed prefetch with maxHeldBytes is an InvalidOptionError naming it (a per-consumer prefetch cannot be lowered under a running consumer)', async () => {
    const err: unknown = await RabbitmqSource.open({ url, queue: 'q', prefetch: 8, maxHeldBytes: 1024 }).then(async (s) => s.close(), (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(/^maxHeldBytes: expected Infinity with a fixed prefetch \(8\), which cannot be lowered under a running consumer: give the adaptive prefetch \(an object\) to bound the bytes, received 1024$/);
    const bad: unknown = await RabbitmqSource.open({ url, queue: 'q', maxHeldBytes: 0 }).then(async (s) => s.close(), (e: unknown) => e);
    expect((bad as Error).message).toMatch(/^maxHeldBytes: expected /);
  });
});
