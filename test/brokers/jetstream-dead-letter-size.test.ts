// A dead letter near the server's max_payload (1 MB by default), against the shared NATS server:
// the copy is the message plus headers (Sluice-Error, -Attempts, -Source, Nats-Msg-Id), so a
// message stored just under the limit did not fit. Before: the client refused the copy ('max_payload
// size exceeded'), a settle error, no term — the message came back after every ack_wait and
// failed the same way, for ever (maxDeliver -1). Now the added error text is cut to fit; a
// message with no room even for the bare headers is a settle error that names the sizes.
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { JetstreamSource } from '../../src/jetstream/index.js';
import { nats, unique, until } from './services.js';

const svc = await nats();
const servers = svc.url.replace(/^nats:\/\//, '');
let nc: NatsConnection;
let jsm: JetStreamManager;

describe.skipIf(!svc.up)('jetstream: a dead letter near max_payload', () => {
  beforeAll(async () => {
    nc = await connect({ servers });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc.close();
  });

  /** A stream holding one message `room` bytes under max_payload, consumed by a handler that throws a long error. */
  async function deadLetterOf(room: number): Promise<{ consumer: BrokerConsumer; stream: string; settleErrors: unknown[]; maxPayload: number }> {
    const stream = unique('DLSIZE').replace(/[^A-Za-z0-9_-]/g, '_');
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const maxPayload = nc.info!.max_payload;
    await nc.request(`${stream}.in`, Buffer.alloc(maxPayload - room, 'a'), { timeout: 5000 });
    const source = await JetstreamSource.open({ servers, stream, consumer: 'workers', ackWaitMs: 1000 });
    const settleErrors: unknown[] = [];
    const consumer = new BrokerConsumer(
      source,
      () => {
        throw new Error('x'.repeat(450));
      },
      { onFailure: { maxAttempts: 1 }, onSettleError: (e) => settleErrors.push(e) },
    );
    return { consumer, stream, settleErrors, maxPayload };
  }

  it('a copy over the limit by its error text: the text is cut to fit, the copy stored, the message termed', async () => {
    const { consumer, stream, settleErrors, maxPayload } = await deadLetterOf(300);
    try {
      expect(await until(() => consumer.stats().deadLettered === 1 || settleErrors.length > 0, 10_000)).toBe(true);
      expect(settleErrors.map(String)).toEqual([]);
      const copy = await jsm.streams.getMessage(`${stream}_DEAD`, { seq: 1 });
      expect(copy!.data.length).toBe(maxPayload - 300);
      const error = copy!.header.get('Sluice-Error');
      expect(error).toMatch(/^Error: x+ \[cut to fit max_payload\]$/);
      expect(error.length).toBeLessThan(450);
      // Termed: not delivered again after ack_wait.
      await new Promise((r) => setTimeout(r, 1500));
      expect(consumer.stats()).toMatchObject({ received: 1, deadLettered: 1, settleErrors: 0 });
    } finally {
      await consumer.stop();
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(`${stream}_DEAD`).catch(() => undefined);
    }
  });

  it('a message with no room for the headers at all: a settle error naming the sizes, no copy', async () => {
    const { consumer, stream, settleErrors, maxPayload } = await deadLetterOf(20);
    try {
      expect(await until(() => settleErrors.length > 0, 10_000)).toBe(true);
      expect(String(settleErrors[0])).toMatch(new RegExp(`the dead letter of message 1 would be \\d+ bytes with its headers, past the server's max_payload of ${maxPayload}: not copied`));
      expect(consumer.stats().deadLettered).toBe(0);
    } finally {
      await consumer.stop();
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(`${stream}_DEAD`).catch(() => undefined);
    }
  });
});
