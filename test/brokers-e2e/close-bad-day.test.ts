// close() and stop() on a bad day, against the shared brokers through a TcpCut relay.
// A producer's close(): called twice and concurrently it is one close; with the broker stalled
// (the connection taken, nothing answered) or cut (reset, refused) it settles within
// PRODUCER_CLOSE_MS and a bit, the publish in flight fails rather than hanging, and a publish
// after close() is a ClosedError at once. A source's close() and a consumer's stop(): before the
// first pull, twice, at once, and with the broker stalled, each settles within its bound.
// Before, with the broker stalled: a producer's close() of each (RabbitMQ, JetStream, Redis
// Streams) hung — past 15 s in a probe, waiting for an answer to its close, quit or drain — the
// RabbitMQ and Redis publishes in flight hung with it, a Redis publish after close() waited as
// well, and the RabbitMQ and Redis Streams sources' close() (so a consumer's stop()) hung too.
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { CLOSE_GRACE_MS } from '../../src/brokers/bounded-close.js';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { PRODUCER_CLOSE_MS } from '../../src/brokers/broker-producer.js';
import type { BrokerProducer } from '../../src/brokers/broker-producer.js';
import { ClosedError } from '../../src/core/index.js';
import { JetstreamProducer, JetstreamSource } from '../../src/jetstream/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStreamsProducer, RedisStreamsSource } from '../../src/redis-streams/index.js';
import { deleteRabbitQueues, nats, rabbitmq, redis, unique } from '../brokers/services.js';
import { TcpCut } from './tcp-cut.js';

const [natsSvc, rabbitSvc, redisSvc] = await Promise.all([nats(), rabbitmq(), redis()]);
/** close()'s bound, with 4 s for a busy machine (the defect hung for good). */
const CLOSE_BOUND_MS = PRODUCER_CLOSE_MS + 4000;

interface Case {
  readonly name: string;
  readonly up: boolean;
  readonly target: () => { host: string; port: number };
  readonly open: (port: number) => Promise<BrokerProducer>;
  readonly publish: (p: BrokerProducer) => Promise<unknown>;
  readonly source: (port: number) => Promise<BrokerSource>;
  /** How long the source's close may wait for a broker that answers nothing (then its connection is ended). */
  readonly sourceCloseMs: number;
  readonly cleanup: () => Promise<void>;
}

const queue = unique('producer-close');
const subject = unique('PCLOSE').replace(/[^A-Za-z0-9_-]/g, '_');
const hostPort = (url: string): { host: string; port: number } => {
  const u = new URL(url.includes('://') ? url : `nats://${url}`);
  return { host: u.hostname, port: Number(u.port) };
};

const cases: Case[] = [
  {
    name: 'rabbitmq',
    up: rabbitSvc.up,
    target: () => hostPort(rabbitSvc.url),
    open: (port) => {
      const u = new URL(rabbitSvc.url);
      return RabbitmqProducer.open({ url: `amqp://${u.username}:${u.password}@127.0.0.1:${port}` });
    },
    publish: (p) => (p as RabbitmqProducer).sendToQueue(queue, Buffer.from('x')),
    source: (port) => {
      const u = new URL(rabbitSvc.url);
      return RabbitmqSource.open({ url: `amqp://${u.username}:${u.password}@127.0.0.1:${port}`, queue });
    },
    // Its close also waits up to 2 s for redeliveries being counted (docs/brokers.md).
    sourceCloseMs: 2000 + CLOSE_GRACE_MS,
    cleanup: async () => {
      const conn = await amqp.connect(rabbitSvc.url);
      await deleteRabbitQueues(await conn.createChannel(), queue);
      await conn.close();
    },
  },
  {
    name: 'jetstream',
    up: natsSvc.up,
    target: () => hostPort(natsSvc.url),
    open: async (port) => {
      const nc = await connect({ servers: natsSvc.url });
      await (await jetstreamManager(nc)).streams.add({ name: subject, subjects: [`${subject}.>`] }).catch(() => undefined);
      await nc.close();
      return JetstreamProducer.open({ servers: `127.0.0.1:${port}` });
    },
    publish: (p) => (p as JetstreamProducer).publish(`${subject}.in`, 'x'),
    source: (port) => JetstreamSource.open({ servers: `127.0.0.1:${port}`, stream: subject, subjects: [`${subject}.>`], consumer: 'workers' }),
    sourceCloseMs: CLOSE_GRACE_MS,
    cleanup: async () => {
      const nc = await connect({ servers: natsSvc.url });
      await (await jetstreamManager(nc)).streams.delete(subject).catch(() => undefined);
      await nc.close();
    },
  },
  {
    name: 'redis streams',
    up: redisSvc.up,
    target: () => hostPort(redisSvc.url),
    open: (port) => RedisStreamsProducer.open({ url: `redis://127.0.0.1:${port}` }),
    publish: (p) => (p as RedisStreamsProducer).publish(queue, 'x'),
    source: (port) => RedisStreamsSource.open({ url: `redis://127.0.0.1:${port}`, stream: queue, group: 'workers', blockMs: 100 }),
    sourceCloseMs: CLOSE_GRACE_MS,
    cleanup: async () => {
      const r = new Redis(redisSvc.url);
      await r.del(queue);
      r.disconnect();
    },
  },
];

/** How `p` settled within `ms`: 'resolved', the error's message, or 'pending'. */
async function within(p: Promise<unknown>, ms: number): Promise<{ outcome: string; error?: unknown; ms: number }> {
  const t0 = Date.now();
  let bound: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(
      () => ({ outcome: 'resolved' }),
      (error: unknown) => ({ outcome: 'rejected', error }),
    ),
    new Promise<{ outcome: string }>((resolve) => (bound = setTimeout(() => resolve({ outcome: 'pending' }), ms))),
  ]);
  clearTimeout(bound);
  return { ...r, ms: Date.now() - t0 };
}

for (const c of cases) {
  describe.skipIf(!c.up)(`${c.name}: close() and stop()`, () => {
    it("producer: close() twice and concurrently is one close, every call resolved; then a publish is a ClosedError", async () => {
      const relay = await TcpCut.open(c.target());
      try {
        const p = await c.open(relay.port);
        await c.publish(p);
        const [a, b] = [p.close(), p.close()];
        expect(a).toBe(b);
        expect((await within(Promise.all([a, b]), CLOSE_BOUND_MS)).outcome).toBe('resolved');
        expect((await within(p.close(), 1000)).outcome).toBe('resolved');
        expect(p.closed).toBe(true);
        const after = await within(c.publish(p), 1000);
        expect(after.error).toBeInstanceOf(ClosedError);
        expect((after.error as Error).message).toBe(`${p.name}: closed`);
      } finally {
        await relay.cut();
      }
    });

    for (const outage of ['stall', 'cut'] as const) {
      it(`producer: the broker ${outage === 'stall' ? 'stalled (the connection held, nothing answered)' : 'cut (reset, refused)'}: close() settles within its bound, the publish in flight fails`, async () => {
        const relay = await TcpCut.open(c.target());
        try {
          const p = await c.open(relay.port);
          await c.publish(p);
          if (outage === 'stall') relay.stall();
          else await relay.cut();
          await new Promise((r) => setTimeout(r, 200));
          const inFlight = c.publish(p);
          inFlight.catch(() => undefined);
          await new Promise((r) => setTimeout(r, 200));
          const closing = await within(Promise.all([p.close(), p.close()]), CLOSE_BOUND_MS);
          expect(closing.outcome).toBe('resolved');
          // Its acknowledgement can no longer come: failed by the close, not left pending.
          expect((await within(inFlight, 2000)).outcome).toBe('rejected');
          expect((await within(c.publish(p), 1000)).error).toBeInstanceOf(ClosedError);
        } finally {
          await relay.cut();
        }
      });
    }

    it("source: close() before any pull, twice and at once; a consumer's stop() before its first pull, twice", async () => {
      const relay = await TcpCut.open(c.target());
      try {
        const s = await c.source(relay.port);
        const [a, b] = [s.close(), s.close()];
        expect((await within(Promise.all([a, b, s.close()]), c.sourceCloseMs + 4000)).outcome).toBe('resolved');
        const consumer = new BrokerConsumer(await c.source(relay.port), () => undefined);
        expect((await within(Promise.all([consumer.stop(), consumer.stop()]), c.sourceCloseMs + 4000)).outcome).toBe('resolved');
        expect((await within(consumer.stop(), 1000)).outcome).toBe('resolved');
        expect(consumer.stats().state).toBe('stopped');
      } finally {
        await relay.cut();
      }
    });

    it("source: with the broker stalled, its close() and a consumer's stop() settle within their bound", async () => {
      const relay = await TcpCut.open(c.target());
      try {
        const s = await c.source(relay.port);
        const consumer = new BrokerConsumer(await c.source(relay.port), () => undefined);
        await new Promise((r) => setTimeout(r, 300)); // its first pull under way
        relay.stall();
        await new Promise((r) => setTimeout(r, 200));
        const closing = await within(Promise.all([s.close(), s.close()]), c.sourceCloseMs + 4000);
        expect(closing.outcome).toBe('resolved');
        const stopping = await within(Promise.all([consumer.stop(), consumer.stop()]), c.sourceCloseMs + 4000);
        expect(stopping.outcome).toBe('resolved');
        expect(consumer.stats().state).toBe('stopped');
      } finally {
        await relay.cut();
      }
    });

    it('cleanup', async () => {
      await c.cleanup();
    });
  });
}
