// A dead letter that does not fit SQS's limits, against ElasticMQ (SQS_ENDPOINT; strict limits).
// The copy is the message plus sluice-error, sluice-attempts and sluice-source, so a message
// carrying 8 to 10 attributes of its own passed SQS's 10 a message, and one near the size limit
// (the body and every attribute's name, type and value: 1 MiB, or the dead-letter queue's
// MaximumMessageSize) passed that. Before: the copy was refused, a settle error, the message
// not deleted — it came back after every visibility timeout, past maxAttempts, to be refused
// again, for ever, never in the dead-letter queue and counted nowhere but settleErrors.
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { SqsSource } from '../../src/sqs/index.js';
import { until, unique } from '../brokers/services.js';
import { cleanup, client, credentials, endpoint, svc, urlOf } from './sqs-admin.js';


/** One message in a fresh queue, consumed by a handler that always throws, dead-lettered at its first failure. */
async function failing(body: string, attributes: Record<string, MessageAttributeValue>, extra: Record<string, unknown> = {}) {
  const queue = unique('sqs-dlfit');
  const source = await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 2, waitTimeS: 0, ...extra });
  await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: body, MessageAttributes: attributes }));
  const settleErrors: string[] = [];
  const consumer = new BrokerConsumer(
    source,
    () => {
      throw new Error('y'.repeat(450));
    },
    { onFailure: { maxAttempts: 1 }, onSettleError: (e) => settleErrors.push(String(e)) },
  );
  return { queue, source, consumer, settleErrors };
}

async function deadLetters(queue: string) {
  const r = await client.send(new ReceiveMessageCommand({ QueueUrl: await urlOf(`${queue}-dead`), MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
  return r.Messages ?? [];
}

const attrs = (n: number): Record<string, MessageAttributeValue> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, i % 2 === 0 ? { DataType: 'String', StringValue: `v${i}` } : { DataType: 'Number', StringValue: String(i) }]));

describe.skipIf(!svc.up)('sqs: a dead letter past SQS limits', () => {
  it('a message with 9 attributes of its own: the copy carries them packed in sluice-attributes (10 at most a message), dead-lettered once, deleted', async () => {
    const { queue, consumer, settleErrors } = await failing('nine', attrs(9));
    try {
      expect(await until(() => consumer.stats().deadLettered === 1 || settleErrors.length > 0, 10_000)).toBe(true);
      expect(settleErrors).toEqual([]);
      const [copy] = await deadLetters(queue);
      expect(copy?.Body).toBe('nine');
      const a = copy!.MessageAttributes!;
      expect(Object.keys(a).sort()).toEqual(['sluice-attempts', 'sluice-attributes', 'sluice-error', 'sluice-source']);
      expect(a['sluice-error']!.StringValue).toBe(`Error: ${'y'.repeat(450)} (attempt 1 of 1)`);
      expect(JSON.parse(a['sluice-attributes']!.StringValue!)).toEqual(Object.fromEntries(Object.entries(attrs(9)).map(([k, v]) => [k, { DataType: v.DataType, StringValue: v.StringValue }])));
      // Deleted: not delivered again after its visibility timeout.
      await new Promise((r) => setTimeout(r, 3000));
      expect(consumer.stats()).toMatchObject({ received: 1, deadLettered: 1, settleErrors: 0 });
    } finally {
      await consumer.stop();
      await cleanup(queue);
    }
  });

  it('7 attributes of its own: copied as they were, beside the 3 of sluice (10)', async () => {
    const { queue, consumer, settleErrors } = await failing('seven', attrs(7));
    try {
      expect(await until(() => consumer.stats().deadLettered === 1 || settleErrors.length > 0, 10_000)).toBe(true);
      const [copy] = await deadLetters(queue);
      expect(Object.keys(copy!.MessageAttributes!).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'sluice-attempts', 'sluice-error', 'sluice-source']);
      expect(copy!.MessageAttributes!.a1).toMatchObject({ DataType: 'Number', StringValue: '1' });
    } finally {
      await consumer.stop();
      await cleanup(queue);
    }
  });

  it('a copy over 1 MiB by its error text: the text is cut to fit', async () => {
    // SQS counts the body and each attribute's name, type and value (ElasticMQ only the body).
    // A visibility timeout longer than a 1 MiB copy takes on a busy machine: the message must not come back meanwhile.
    const { queue, consumer, settleErrors } = await failing('b'.repeat(1_048_576 - 300), {}, { visibilityTimeoutS: 30 });
    try {
      expect(await until(() => consumer.stats().deadLettered === 1 || settleErrors.length > 0, 10_000)).toBe(true);
      expect(settleErrors).toEqual([]);
      const [copy] = await deadLetters(queue);
      const a = copy!.MessageAttributes!;
      expect(a['sluice-error']!.StringValue).toMatch(/^Error: y+ \[cut to fit 1048576 bytes\]$/);
      let size = Buffer.byteLength(copy!.Body!);
      for (const [k, v] of Object.entries(a)) size += Buffer.byteLength(k) + Buffer.byteLength(v.DataType!) + Buffer.byteLength(v.StringValue!);
      expect(size).toBeLessThanOrEqual(1_048_576);
    } finally {
      await consumer.stop();
      await cleanup(queue);
    }
  });

  it('no room even for the bare attributes: held — left in its queue, invisible for deadLetterHoldS, counted in deadLetterRefusals, the settle error naming the sizes; not lost, not looping', async () => {
    const { queue, source, consumer, settleErrors } = await failing('c'.repeat(1_048_576), {}, { deadLetterHoldS: 60, visibilityTimeoutS: 3 });
    try {
      expect(await until(() => settleErrors.length > 0, 10_000)).toBe(true);
      expect(settleErrors[0]).toMatch(/^DeadLetterTooLargeError: sqs at .* queue "sqs-dlfit[^"]*": the dead letter of message \S+ would be \d+ bytes with its attributes, past 1048576 \(the dead-letter queue's limit\): not sent; the message stays in its queue, invisible for 60 s \(deadLetterHoldS\)$/);
      expect(source.deadLetterRefusals).toBe(1);
      expect(source.lastDeadLetterRefusal).toBe(settleErrors[0]!.replace(/^DeadLetterTooLargeError: /, ''));
      // Well past the 3 s visibility timeout: not received again (before: back after each, refused again).
      await new Promise((r) => setTimeout(r, 4500));
      expect(settleErrors).toHaveLength(1);
      expect(consumer.stats()).toMatchObject({ received: 1, deadLettered: 0 });
      expect(await deadLetters(queue)).toEqual([]);
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: source.url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
      expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1'); // still there: not lost
    } finally {
      await consumer.stop();
      await cleanup(queue);
    }
  });

  it.each([-1, 1.5, 43_201, '60'])('deadLetterHoldS %j: an InvalidOptionError naming it, before connecting', async (value) => {
    const err: unknown = await SqsSource.open({ endpoint: 'http://127.0.0.1:1', credentials, queue: 'q', deadLetterHoldS: value } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(/^deadLetterHoldS: expected an integer in \[0, 43200\], received /);
  });
});
