// A long handler keeps its message across a reconnect: the network to the broker is cut (a TcpCut
// relay) for 1 s in the middle of a handler held three times the broker's redelivery timeout
// (JetStream ack_wait, Redis Streams claimIdleMs, the SQS visibility timeout), with extendEveryMs
// well below it. The extensions sent during the cut fail (SQS, Redis Streams once ioredis gives
// the command up) or wait in the client for the reconnect (NATS); the next after it goes through,
// so the message is never handed to a peer consuming the same group meanwhile, and is acked once.
// This holds while the cut, plus the client's reconnect delay, is shorter than the redelivery
// timeout less extendEveryMs; past that the broker hands it out again (docs/brokers.md).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DeleteQueueCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { JetstreamSource } from '../../src/jetstream/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { SqsSource } from '../../src/sqs/index.js';
import { nats, redis, sqs, unique, until } from '../brokers/services.js';
import { TcpCut } from './tcp-cut.js';

const [natsSvc, redisSvc, sqsSvc] = await Promise.all([nats(), redis(), sqs()]);

interface Case {
  readonly target: { host: string; port: number };
  /** The broker's redelivery timeout, ms. */
  readonly redeliverMs: number;
  /** Opened through the relay on `port` (the one holding the message), or straight to the broker (the peer). */
  readonly open: (port: number | undefined) => Promise<BrokerSource>;
  readonly publish: (body: string) => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url.includes('://') ? url : `tcp://${url}`);
  return { host: u.hostname, port: Number(u.port) };
}

async function holdAcrossCut(c: Case): Promise<void> {
  const cut = await TcpCut.open(c.target);
  const holder = await c.open(cut.port);
  const holdMs = 3 * c.redeliverMs;
  const attempts: number[] = [];
  const worker = new BrokerConsumer(holder, async (d) => {
    attempts.push(d.attempt);
    await new Promise((r) => setTimeout(r, holdMs));
  }, { extendEveryMs: 300 });
  const peerGot: string[] = [];
  let peer: BrokerConsumer | undefined;
  try {
    await c.publish('long job');
    expect(await until(() => attempts.length === 1, 20_000)).toBe(true);
    // The peer consumes the same group straight from the broker: it would get the message the moment the broker gave up on the holder.
    peer = new BrokerConsumer(await c.open(undefined), (d) => void peerGot.push(Buffer.from(d.body).toString()));
    await new Promise((r) => setTimeout(r, c.redeliverMs / 3));
    await cut.cut();
    // SQS's connection state moves with receives only, and none runs while the one handler holds: not awaited.
    await new Promise((r) => setTimeout(r, 1000));
    await cut.mend();
    expect(await until(() => worker.stats().acked === 1, holdMs + 30_000)).toBe(true);
    const why = JSON.stringify({ worker: worker.stats(), peer: peer.stats() });
    expect(attempts, why).toEqual([1]);
    expect(worker.stats(), why).toMatchObject({ acked: 1, settleErrors: 0, state: 'running' });
    expect(peerGot, why).toEqual([]);
  } finally {
    await cut.mend();
    await worker.stop({ graceMs: 0 });
    await peer?.stop({ graceMs: 0 });
    await cut.cut();
    await c.cleanup();
  }
}

async function jetstreamCase(): Promise<Case> {
  const stream = unique('EXT').replace(/[^A-Za-z0-9_-]/g, '_');
  const nc = await connect({ servers: natsSvc.url });
  const ackWaitMs = 5000; // the client's reconnect comes 2 s after the cut's end at worst (reconnectTimeWait)
  return {
    target: hostPort(natsSvc.url),
    redeliverMs: ackWaitMs,
    open: (p) => JetstreamSource.open({ servers: p === undefined ? natsSvc.url : `127.0.0.1:${p}`, stream, subjects: [`${stream}.>`], consumer: 'workers', ackWaitMs }),
    publish: async (b) => void (await jetstream(nc).publish(`${stream}.in`, b)),
    cleanup: async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream);
      await jsm.streams.delete(`${stream}_DEAD`);
      await nc.close();
    },
  };
}

function redisCase(): Case {
  const stream = unique('ext');
  const r = new Redis(redisSvc.url);
  let n = 0;
  return {
    target: hostPort(redisSvc.url),
    redeliverMs: 3000,
    open: (p) => RedisStreamsSource.open({ url: p === undefined ? redisSvc.url : `redis://127.0.0.1:${p}`, stream, group: 'workers', consumer: `c${++n}`, blockMs: 100, claimIdleMs: 3000 }),
    publish: async (b) => void (await r.xadd(stream, '*', 'body', b)),
    cleanup: async () => {
      await r.del(stream, `${stream}:dead`);
      r.disconnect();
    },
  };
}

function sqsCase(): Case {
  const queue = unique('ext');
  const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
  const client = new SQSClient({ endpoint: sqsSvc.url, region: 'us-east-1', credentials });
  const urlOf = async (q: string): Promise<string> => (await client.send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl!;
  return {
    target: hostPort(sqsSvc.url),
    redeliverMs: 3000,
    open: (p) => SqsSource.open({ endpoint: p === undefined ? sqsSvc.url : `http://127.0.0.1:${p}`, credentials, queue, visibilityTimeoutS: 3, waitTimeS: 0 }),
    publish: async (b) => void (await client.send(new SendMessageCommand({ QueueUrl: await urlOf(queue), MessageBody: b }))),
    cleanup: async () => {
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) })).catch(() => undefined);
      client.destroy();
    },
  };
}

const cases = [
  { name: 'jetstream (+WPI)', up: natsSvc.up, make: jetstreamCase },
  { name: 'redis streams (XCLAIM idle 0)', up: redisSvc.up, make: async () => redisCase() },
  { name: 'sqs (ChangeMessageVisibility)', up: sqsSvc.up, make: async () => sqsCase() },
];

describe('extendEveryMs keeps a long handler\'s message across a reconnect: no peer gets it', () => {
  for (const { name, up, make } of cases) {
    it.skipIf(!up)(name, async () => {
      await holdAcrossCut(await make());
    }, 120_000);
  }
});
