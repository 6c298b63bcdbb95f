// A bad day for the RabbitMQ consumer: stop() and a lost connection while a retry waits out its
// delay, an ack after the source closed. The server-side close goes through `rabbitmqctl
// close_all_connections` on a vhost of this file's own, so no other client of the broker is
// touched.
import amqp from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError, QueueDeletedError } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { InvalidArgumentError, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { ATTEMPT_HEADER, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { deleteRabbitQueues, rabbitmq, unique, until } from '../brokers/services.js';
import { ctl, haveCtl } from './rabbitmq-ctl.js';
import { stopMidBurst } from './stop-burst.js';

const svc = await rabbitmq();
const VHOST = 'sluice-bad-day';
const can = haveCtl(svc, 'RABBITMQ BAD-DAY TESTS');
const base = new URL(svc.url);
const url = `${base.protocol}//${base.username}:${base.password}@${base.host}/${VHOST}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const text = (d: Delivery): string => Buffer.from(d.body).toString();

async function publish(queue: string, bodies: readonly string[]): Promise<void> {
  const c = await amqp.connect(url);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b), { persistent: true });
  await ch.waitForConfirms();
  await c.close();
}

/** Everything on `queue` now (taken off it): body and attempt header. */
async function drain(queue: string): Promise<{ body: string; attempt: unknown }[]> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  const out: { body: string; attempt: unknown }[] = [];
  for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) {
    out.push({ body: m.content.toString(), attempt: m.properties.headers?.[ATTEMPT_HEADER] });
  }
  await deleteRabbitQueues(ch, queue);
  await c.close();
  return out;
}

/** A quorum queue holding one message `body`, for `run`; deleted (with its dead-letter queue) after. */
async function withQuorumQueue(prefix: string, body: string, run: (queue: string, ch: amqp.ConfirmChannel) => Promise<void>): Promise<void> {
  const queue = unique(prefix);
  const admin = await amqp.connect(url);
  const ch = await admin.createConfirmChannel();
  try {
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
    await run(queue, ch);
  } finally {
    await deleteRabbitQueues(ch, queue);
    await admin.close();
  }
}

/** Settles with 'settled' / 'rejected: <name>', or 'still waiting' after `ms`. */
function outcome(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(
      () => 'settled',
      (e: unknown) => `rejected: ${(e as Error).name}`,
    ),
    sleep(ms).then(() => 'still waiting'),
  ]);
}

const LONG = { maxAttempts: 3, baseDelayMs: 600_000, maxDelayMs: 600_000 }; // ten minutes

describe.skipIf(!can)('rabbitmq: a bad day', () => {
  beforeAll(() => {
    ctl('add_vhost', VHOST); // fails harmlessly when it exists
    expect(ctl('set_permissions', '-p', VHOST, base.username || 'guest', '.*', '.*', '.*')).toBe(true);
  });

  it('stop() while a retry waits out a ten-minute delay: it is republished at once, its attempt counted, and stop() settles', async () => {
    const queue = unique('stop-retry');
    await publish(queue, ['flaky']);
    const source = await RabbitmqSource.open({ url, queue });
    const c = new BrokerConsumer(source, () => {
      throw new Error('boom');
    }, { onFailure: LONG });
    expect(await until(() => c.stats().failed === 1)).toBe(true);
    expect(await outcome(c.stop(), 20_000)).toBe('settled');
    expect(c.stats()).toMatchObject({ received: 1, failed: 1, retried: 1, acked: 0, settleErrors: 0, held: 0 });
    expect(await drain(queue)).toEqual([{ body: 'flaky', attempt: 2 }]);
  });

  it('retries waiting out their delay do not take the handlers\' prefetch: with both handlers\' messages failing, the good ones still flow', async () => {
    const queue = unique('retry-prefetch');
    await publish(queue, ['bad1', 'bad2', 'g1', 'g2', 'g3', 'g4', 'g5']);
    const source = await RabbitmqSource.open({ url, queue });
    const good: string[] = [];
    const c = new BrokerConsumer(source, (d) => {
      if (text(d).startsWith('bad')) throw new Error('poison');
      good.push(text(d));
    }, { concurrency: 2, onFailure: LONG });
    try {
      expect(await until(() => good.length === 5, 15_000)).toBe(true);
      expect(c.stats()).toMatchObject({ failed: 2, acked: 5 });
    } finally {
      await c.stop();
      await drain(queue);
    }
  });

  it('handlers slower than the prefetch\'s bufferMs: the prefetch follows the rate but never starves a free handler (before: 1 while 3 of 4 handlers held theirs)', async () => {
    const queue = unique('slow-handlers');
    await publish(queue, Array.from({ length: 10 }, (_, i) => `s${i}`));
    const clock = new VirtualClock();
    const source = await RabbitmqSource.open({ url, queue, clock, prefetch: { bufferMs: 1000, intervalMs: 1000 } });
    const gates: (() => void)[] = [];
    const c = new BrokerConsumer(source, () => new Promise<void>((r) => gates.push(r)), { concurrency: 4 });
    try {
      expect(await until(() => c.stats().inFlight === 4)).toBe(true);
      await clock.tick(1000); // a second in which nothing finished: the measured rate is slow
      gates.shift()!(); // one finishes: 1/s, times bufferMs, is a prefetch of 1 — with 3 still held
      expect(await until(() => c.stats().acked === 1 && c.stats().inFlight === 4, 5000)).toBe(true);
      expect(source.prefetch.value).toBeGreaterThanOrEqual(4);
    } finally {
      for (const g of gates.splice(0)) g();
      await c.stop();
      await drain(queue);
    }
  });

  it('the connection closed by the server mid-stream: done rejects with BrokerUnavailableError without waiting out a retry delay; every message is back on the queue, none acked', async () => {
    const queue = unique('server-close');
    const bodies = Array.from({ length: 10 }, (_, i) => `m${i}`);
    await publish(queue, bodies);
    const source = await RabbitmqSource.open({ url, queue });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = new BrokerConsumer(source, async (d) => {
      if (text(d) === 'm0') throw new Error('retry me later');
      await gate;
    }, { concurrency: 4, onFailure: LONG });
    try {
      expect(await until(() => c.stats().failed === 1 && c.stats().inFlight === 4)).toBe(true);
      expect(ctl('close_all_connections', '-p', VHOST, 'sluice bad-day test')).toBe(true);
      await sleep(200);
      release(); // the handlers finish after the connection is gone: their acks must fail, not be counted
      const end = await outcome(c.done, 20_000);
      expect(end).toBe('rejected: BrokerUnavailableError');
      await expect(c.done).rejects.toBeInstanceOf(BrokerUnavailableError);
      expect(c.stats()).toMatchObject({ acked: 0, retried: 0 });
      expect(c.stats().settleErrors).toBe(5);
      const back = await drain(queue);
      expect(back.map((m) => m.body).sort()).toEqual([...bodies].sort());
    } finally {
      release();
    }
  });

  it('pull(max) of 0, -1, NaN or 1.5 is an InvalidArgumentError naming max (before: 0 took nothing in silence, 1.5 took one), and Infinity is unbounded', async () => {
    const queue = unique('pull-max');
    await publish(queue, ['a', 'b', 'c']);
    const source = await RabbitmqSource.open({ url, queue });
    try {
      for (const max of [0, -1, NaN, 1.5]) {
        const err = await source.pull(max, () => undefined, new AbortController().signal).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toBe(`max: expected an integer >= 1 (or Infinity: unbounded), received ${String(max)}`);
      }
      const got: Delivery[] = [];
      expect(await until(async () => {
        await source.pull(Infinity, (d) => got.push(d), new AbortController().signal);
        return got.length === 3;
      })).toBe(true);
      expect(got.map(text)).toEqual(['a', 'b', 'c']);
      await Promise.all(got.map((d) => d.ack()));
    } finally {
      await source.close();
      await drain(queue);
    }
  });

  it('stop() during a burst gives back what was taken and never handled (nack, requeue: no copy made — the next consumer takes the redelivery as a suspect), and holds nothing after', async () => {
    const queue = unique('burst');
    await publish(queue, Array.from({ length: 60 }, (_, i) => `b${i}`));
    const source = await RabbitmqSource.open({ url, queue });
    const s = await stopMidBurst(source);
    const back = await drain(queue);
    expect(back).toHaveLength(60 - s.received);
    expect(back.every((m) => m.attempt === undefined)).toBe(true);
  });

  it('a handler that never settles: stop({ graceMs }) abandons it, closes, and the message is back on the queue; without graceMs stop() waits', async () => {
    const queue = unique('stuck');
    await publish(queue, ['stuck']);
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue }), () => new Promise<void>(() => undefined));
    expect(await until(() => c.stats().inFlight === 1)).toBe(true);
    expect(await outcome(c.stop(), 300)).toBe('still waiting'); // running handlers are waited for, however long
    expect(await outcome(c.stop({ graceMs: 100 }), 20_000)).toBe('settled');
    expect(await outcome(c.done, 1000)).toBe('settled');
    expect(c.stats()).toMatchObject({ received: 1, acked: 0, inFlight: 1 });
    expect(await drain(queue)).toEqual([{ body: 'stuck', attempt: undefined }]);
  });

  it('a quorum queue refuses the channel-wide prefetch an adaptive one needs: open() says to pass a number, naming the queue; a fixed prefetch consumes it', async () => {
    await withQuorumQueue('quorum', 'q1', async (queue, ch) => {
      const err = await RabbitmqSource.open({ url, queue, assertQueue: false }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe('prefetch');
      expect((err as Error).message).toMatch(new RegExp(`^prefetch: expected a number \\(a fixed prefetch\\) for queue "${queue}", which refuses the channel-wide prefetch an adaptive one needs \\(a quorum or stream queue; RabbitMQ: .*global qos.*\\), received an object$`));
      const seen: string[] = [];
      const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue, assertQueue: false, prefetch: 4 }), (d) => void seen.push(text(d)));
      expect(await until(() => c.stats().acked === 1)).toBe(true);
      await c.stop();
      expect(seen).toEqual(['q1']);
      expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    });
  });

  it('a message that kills its consumer, on a quorum queue (a fixed prefetch): the broker counts each death (x-delivery-count), and past maxAttempts it is dead-lettered without running the handler again', async () => {
    await withQuorumQueue('killer', 'killer', async (queue, ch) => {
      // Two consumers take it and die holding it (their connection closed, never settled): requeued, counted.
      for (let death = 1; death <= 2; death++) {
        const source = await RabbitmqSource.open({ url, queue, assertQueue: false, prefetch: 1 });
        const got: Delivery[] = [];
        await source.pull(1, (d) => got.push(d), new AbortController().signal);
        expect(got[0]!.attempt).toBe(death);
        await source.close();
      }
      const calls: string[] = [];
      const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue, assertQueue: false, prefetch: 1 }), (d) => void calls.push(text(d)), { onFailure: { maxAttempts: 2 } });
      expect(await until(() => c.stats().deadLettered === 1)).toBe(true);
      await c.stop();
      expect(calls).toEqual([]); // the third consumer lives
      const dead = await ch.get(`${queue}.dead`, { noAck: true });
      expect(dead && [dead.content.toString(), dead.properties.headers?.['x-sluice-attempt'], dead.properties.headers?.['x-sluice-error']]).toEqual(['killer', 3, 'delivered 3 times, past onFailure.maxAttempts (2), and never settled: the consumers handling it died or lost their connection (a message that kills its process?)']);
      expect((await ch.checkQueue(queue)).messageCount).toBe(0);
      expect(c.stats()).toMatchObject({ received: 0, failed: 0, deadLettered: 1, held: 0 });
    });
  });

  it('the dead-letter queue deleted while consuming: declared again and the dead letter sent once more — not acked with its copy dropped (the queue gone, the copy unroutable)', async () => {
    const queue = unique('dlq-gone');
    await publish(queue, ['poison']);
    const source = await RabbitmqSource.open({ url, queue, prefetch: 4 });
    const admin = await amqp.connect(url);
    await (await admin.createChannel()).deleteQueue(`${queue}.dead`);
    await admin.close();
    const c = new BrokerConsumer(source, () => {
      throw new Error('bad');
    }, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => c.stats().settleErrors + c.stats().deadLettered === 1)).toBe(true);
      // Before: settleErrors 1 and the original held unacknowledged until stop (earlier still: acked, its copy dropped).
      expect(c.stats()).toMatchObject({ failed: 1, deadLettered: 1, settleErrors: 0, acked: 0, held: 0 });
    } finally {
      await c.stop();
    }
    const dead = await drain(`${queue}.dead`);
    expect(dead).toEqual([{ body: 'poison', attempt: 1 }]);
    expect(await drain(queue)).toEqual([]);
  });

  /** A consumer of `queue` (holding 'poison') whose handler always fails, maxAttempts 1, while `queue.dead` refuses every publish (max-length 0, reject-publish). */
  async function refusedDeadLetter(queue: string, run: (source: RabbitmqSource, c: BrokerConsumer, calls: () => number, clear: () => void) => Promise<void>): Promise<void> {
    const name = `sluice-${queue}`;
    // A policy, not queue arguments: open() declares the dead-letter queue without any.
    expect(ctl('set_policy', '-p', VHOST, name, `^${queue}\\.dead$`, '{"max-length":0,"overflow":"reject-publish"}', '--apply-to', 'queues')).toBe(true);
    try {
      await publish(queue, ['poison']);
      const source = await RabbitmqSource.open({ url, queue, prefetch: 1 });
      let calls = 0;
      const c = new BrokerConsumer(source, () => {
        calls++;
        throw new Error('bad');
      }, { onFailure: { maxAttempts: 1 } });
      try {
        await run(source, c, () => calls, () => void ctl('clear_policy', '-p', VHOST, name));
      } finally {
        await c.stop();
      }
    } finally {
      ctl('clear_policy', '-p', VHOST, name);
    }
  }

  it('a dead letter the broker refuses (its queue full, reject-publish): the message is held unacknowledged and the copy tried again after a backoff, each refusal counted on the source — no copy back into its queue, the attempt not climbing; once the dead-letter queue takes it, dead-lettered as the attempt it was', async () => {
    const queue = unique('dlq-refused');
    await refusedDeadLetter(queue, async (source, c, calls, clear) => {
      expect(await until(() => c.stats().settleErrors + (source.deadLetterRefusals ?? 0) >= 2, 15_000)).toBe(true);
      // Before: given back after each refusal and counted again by a copy into its queue — the
      // attempt climbing by one a second, for as long as the dead-letter queue refused.
      expect(source.countedRedeliveries).toBe(0);
      expect(source.heldDeadLetters).toBe(1);
      expect(source.lastDeadLetterRefusal).toMatch(/nack/i);
      expect(calls()).toBe(1);
      expect(c.stats()).toMatchObject({ deadLettered: 0, acked: 0, settleErrors: 0, held: 1 });
      expect(await source.lag()).toBe(0); // nothing back in its queue
      clear();
      expect(await until(() => c.stats().deadLettered === 1, 40_000)).toBe(true);
      expect(source.heldDeadLetters).toBe(0);
      expect(c.stats()).toMatchObject({ acked: 0, settleErrors: 0, held: 0 });
    });
    const admin = await amqp.connect(url);
    const ch = await admin.createChannel();
    const dead = await ch.get(`${queue}.dead`, { noAck: true });
    await admin.close();
    expect(dead && [dead.content.toString(), dead.properties.headers?.[ATTEMPT_HEADER]]).toEqual(['poison', 1]);
    expect(await drain(queue)).toEqual([]);
  });

  it('a dead letter held (refused) when the consumer stops: given back to its queue at once, as the attempt it was (a settle error) — nothing lost', async () => {
    const queue = unique('dlq-refused-stop');
    await refusedDeadLetter(queue, async (source, c) => {
      expect(await until(() => c.stats().settleErrors + (source.deadLetterRefusals ?? 0) >= 1, 15_000)).toBe(true);
      expect(await outcome(c.stop(), 5000)).toBe('settled');
      expect(c.stats()).toMatchObject({ deadLettered: 0, settleErrors: 1, held: 0 });
    });
    expect(await drain(queue)).toEqual([{ body: 'poison', attempt: undefined }]);
  });

  it('its queue deleted while consuming: done rejects with QueueDeletedError saying so (before: "unreachable"), and stats say the connection was up to the end', async () => {
    const queue = unique('q-gone');
    await publish(queue, ['a']);
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue }), () => undefined);
    expect(await until(() => c.stats().acked === 1)).toBe(true);
    const before = c.stats();
    const admin = await amqp.connect(url);
    await (await admin.createChannel()).deleteQueue(queue);
    const err = await c.done.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(QueueDeletedError);
    expect((err as Error).message).toBe(`${c.source.name}: the queue ${JSON.stringify(queue)} was deleted (the server cancelled the consumer); the messages it held went with it`);
    expect(before).toMatchObject({ connection: 'up', reconnects: 0 });
    expect(c.stats().connection).toBe('down'); // closed
    await (await admin.createChannel()).deleteQueue(`${queue}.dead`);
    // lag() of a source whose queue is gone: the same error, not amqplib's 404.
    const q2 = unique('q-gone-lag');
    await publish(q2, []);
    const s2 = await RabbitmqSource.open({ url, queue: q2 });
    await (await admin.createChannel()).deleteQueue(q2);
    const lagErr = await s2.lag().then(() => undefined, (e: unknown) => e);
    expect(lagErr).toBeInstanceOf(QueueDeletedError);
    expect((lagErr as Error).message).toMatch(/was deleted \(the server answered 404 NOT_FOUND\)/);
    await s2.close();
    await (await admin.createChannel()).deleteQueue(`${q2}.dead`);
    await admin.close();
  });

  it('the connection closed by the server: stats say down at once (amqplib does not reconnect)', async () => {
    const queue = unique('conn-down');
    const c = new BrokerConsumer(await RabbitmqSource.open({ url, queue }), () => undefined);
    // Observed from the start: done rejects while until() polls, and a rejection nobody handles yet is an unhandled one.
    const ended = c.done.then(() => 'resolved', (e: unknown) => e);
    expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 0 });
    expect(ctl('close_all_connections', '-p', VHOST, 'sluice bad-day test')).toBe(true);
    expect(await until(() => c.stats().connection === 'down')).toBe(true);
    expect(await ended).toBeInstanceOf(BrokerUnavailableError);
    await drain(queue);
  });

  it('an ack after the source closed fails (the broker has requeued the message) instead of reporting an ack', async () => {
    const queue = unique('ack-closed');
    await publish(queue, ['late']);
    const source = await RabbitmqSource.open({ url, queue });
    const got: Delivery[] = [];
    await source.pull(1, (d) => got.push(d), new AbortController().signal);
    expect(got).toHaveLength(1);
    await source.close();
    await expect(got[0]!.ack()).rejects.toThrow();
    expect(await drain(queue)).toEqual([{ body: 'late', attempt: undefined }]);
  });
});
