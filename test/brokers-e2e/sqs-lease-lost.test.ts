// An SQS message whose visibility timeout passed while its handler ran, received meanwhile by
// another consumer (a new receipt handle; the first one's is stale): against ElasticMQ
// (SQS_ENDPOINT). Its extension is refused (ReceiptHandleIsInvalid): the lease is lost, and the
// handler must hear it (its signal aborts with LeaseLostError), as on Redis Streams; its dead
// letter must not copy a message another consumer now handles.
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, LeaseLostError } from '../../src/brokers/index.js';
import type { Delivery, Settlement } from '../../src/brokers/index.js';
import { SqsSource } from '../../src/sqs/index.js';
import { until, unique } from '../brokers/services.js';
import { cleanup, client, credentials, endpoint, svc, urlOf } from './sqs-admin.js';

/** Receive the message as another consumer would, once its visibility passed: holds it 60 s. */
async function steal(url: string, ms = 20_000): Promise<Message> {
  let got: Message | undefined;
  const ok = await until(async () => {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 60, WaitTimeSeconds: 1 }));
    got = r.Messages?.[0];
    return got !== undefined;
  }, ms);
  expect(ok).toBe(true);
  return got!;
}

const lost = (e: unknown): boolean => e instanceof LeaseLostError && e.message.includes('received by another consumer');

describe.skipIf(!svc.up)('sqs: a lost lease', () => {
  it('a message received by another consumer: extend() and deadLetter() reject with LeaseLostError, nothing copied to the dead-letter queue; the other consumer\'s delete goes through', async () => {
    const queue = unique('sqs-lease');
    const source = await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 1, waitTimeS: 0 });
    try {
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'm' }));
      const got: Delivery[] = [];
      expect(await until(async () => (await source.pull(1, (d) => got.push(d), new AbortController().signal), got.length === 1))).toBe(true);
      const thief = await steal(source.url);
      await expect(got[0]!.extend()).rejects.toSatisfy(lost);
      await expect(got[0]!.deadLetter('boom')).rejects.toSatisfy(lost);
      const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: await urlOf(`${queue}-dead`), WaitTimeSeconds: 0 }));
      expect(dead.Messages ?? []).toEqual([]);
      await client.send(new DeleteMessageCommand({ QueueUrl: source.url, ReceiptHandle: thief.ReceiptHandle }));
    } finally {
      await source.close();
      await cleanup(queue);
    }
  });

  it('a handler whose message another consumer received: its signal aborts with LeaseLostError at the next extension; its ack is a settle error (LeaseLostError)', async () => {
    const queue = unique('sqs-lease-consumer');
    const source = await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 1, waitTimeS: 0 });
    await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'slow' }));
    const reasons: unknown[] = [];
    const settleErrors: [unknown, Settlement][] = [];
    let started = false;
    // extendEveryMs past the visibility timeout: the message becomes visible between extensions,
    // and the thief takes it then (a later extension, not this one, is the first refused).
    const consumer = new BrokerConsumer(
      source,
      (_d, signal) => {
        started = true;
        return new Promise<void>((resolve) => signal.addEventListener('abort', () => (reasons.push(signal.reason), resolve()), { once: true }));
      },
      { extendEveryMs: 2000, onSettleError: (err, _d, how) => settleErrors.push([err, how]) },
    );
    try {
      expect(await until(() => started, 20_000)).toBe(true);
      const thief = await steal(source.url);
      expect(await until(() => reasons.length === 1, 20_000)).toBe(true);
      expect(lost(reasons[0])).toBe(true);
      expect(await until(() => settleErrors.length === 1, 20_000)).toBe(true);
      expect(settleErrors[0]![1]).toBe('ack');
      expect(lost(settleErrors[0]![0])).toBe(true);
      expect(consumer.stats()).toMatchObject({ acked: 0, settleErrors: 1 });
      await client.send(new DeleteMessageCommand({ QueueUrl: source.url, ReceiptHandle: thief.ReceiptHandle }));
    } finally {
      await consumer.stop({ graceMs: 1000 }); // bounded even when the signal never aborts
      await cleanup(queue);
    }
  });
});
