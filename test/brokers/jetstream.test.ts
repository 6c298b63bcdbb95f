import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectedError } from '../../src/core/index.js';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { JetstreamProducer, JetstreamSource } from '../../src/jetstream/index.js';
import type { JetstreamSourceOptions } from '../../src/jetstream/index.js';
import { brokerContract } from './contract.js';
import { nats, unique, until } from './services.js';

const svc = await nats();
const servers = svc.url.replace(/^nats:\/\//, '');
const streamOf = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_');

let nc: NatsConnection;
let jsm: JetStreamManager;
if (svc.up) {
  beforeAll(async () => {
    nc = await connect({ servers });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc.close();
  });
}

const open = (name: string, extra: Partial<JetstreamSourceOptions> = {}): Promise<JetstreamSource> =>
  JetstreamSource.open({ servers, stream: streamOf(name), subjects: [`${streamOf(name)}.>`], consumer: 'workers', ackWaitMs: 2000, ...extra });

describe.skipIf(!svc.up)('jetstream', () => {
  brokerContract('jetstream', {
    open: (name) => open(name),
    async publish(name, bodies) {
      const s = streamOf(name);
      try {
        await jsm.streams.info(s);
      } catch {
        await jsm.streams.add({ name: s, subjects: [`${s}.>`] });
      }
      const js = jetstream(nc);
      for (const b of bodies) await js.publish(`${s}.in`, b);
    },
    async deadLetters(name) {
      const s = streamOf(name);
      const out = [];
      try {
        const info = await jsm.streams.info(`${s}_DEAD`);
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
          const m = await jsm.streams.getMessage(`${s}_DEAD`, { seq });
          if (m === null) continue;
          out.push({ body: m.string(), reason: m.header.get('Sluice-Error'), attempts: Number(m.header.get('Sluice-Attempts')) });
        }
      } catch {
        // no dead-letter stream: nothing was dead-lettered
      }
      return out;
    },
    openUnreachable: () => JetstreamSource.open({ servers: '127.0.0.1:1', stream: 'NOWHERE', consumer: 'c' }),
    async unacked(name) {
      return (await jsm.consumers.info(streamOf(name), 'workers')).num_ack_pending;
    },
    async cleanup(name) {
      const s = streamOf(name);
      await jsm.streams.delete(s).catch(() => undefined);
      await jsm.streams.delete(`${s}_DEAD`).catch(() => undefined);
    },
  });

  it('in-progress acks keep a long job from being redelivered past ack_wait', async () => {
    const name = unique('long');
    const s = streamOf(name);
    await jsm.streams.add({ name: s, subjects: [`${s}.>`] });
    await jetstream(nc).publish(`${s}.in`, 'long job');
    const source = await open(name, { ackWaitMs: 1000 });
    const attempts: number[] = [];
    // 2.5 s of work against a 1 s ack_wait: without +WPI the server would redeliver it twice.
    const c = new BrokerConsumer(source, async (d) => {
      attempts.push(d.attempt);
      await new Promise((r) => setTimeout(r, 2500));
    }, { concurrency: 2, extendEveryMs: 300 });
    try {
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(attempts).toEqual([1]);
    } finally {
      await c.stop();
      await jsm.streams.delete(s);
      await jsm.streams.delete(`${s}_DEAD`).catch(() => undefined);
    }
  });

  it('max_ack_pending caps what the whole group holds, whatever the demand', async () => {
    const name = unique('maxack');
    const s = streamOf(name);
    await jsm.streams.add({ name: s, subjects: [`${s}.>`] });
    const js = jetstream(nc);
    for (let i = 0; i < 20; i++) await js.publish(`${s}.in`, String(i));
    const source = await open(name, { maxAckPending: 3 });
    const got: unknown[] = [];
    const ac = new AbortController();
    await source.pull(10, (d) => got.push(d), ac.signal);
    expect(got.length).toBe(3);
    expect((await jsm.consumers.info(s, 'workers')).num_ack_pending).toBe(3);
    await source.close();
    await jsm.streams.delete(s);
    await jsm.streams.delete(`${s}_DEAD`).catch(() => undefined);
  });

  it('the producer resolves on the publish ack and refuses past its bounds', async () => {
    const name = unique('jprod');
    const s = streamOf(name);
    await jsm.streams.add({ name: s, subjects: [`${s}.>`] });
    const p = await JetstreamProducer.open({ servers, maxInFlight: 1, maxWaiting: 0 });
    try {
      const ack = await p.publish(`${s}.in`, 'x');
      expect(ack.stream).toBe(s);
      expect(ack.seq).toBe(1);
      const a = p.publish(`${s}.in`, 'y');
      await expect(p.publish(`${s}.in`, 'z')).rejects.toBeInstanceOf(RejectedError);
      await a;
      expect((await jsm.streams.info(s)).state.messages).toBe(2);
      await expect(p.publish('no.stream.here', 'x')).rejects.toThrow();
      expect(p.stats()).toMatchObject({ published: 2, refused: 1, failed: 1 });
    } finally {
      await p.close();
      await jsm.streams.delete(s);
    }
  });
});
