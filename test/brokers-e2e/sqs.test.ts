// SQS against ElasticMQ (started by scripts/brokers/elasticmq.sh; SQS_ENDPOINT). The JVM
// server is not on every machine, so this runs in `npm run test:brokers`, which .ci/run runs.
import { DeleteQueueCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { brokerContract } from '../brokers/contract.js';
import { sqs, until, unique } from '../brokers/services.js';

const svc = await sqs();
const endpoint = svc.url;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const client = new SQSClient({ endpoint, region: 'us-east-1', credentials });
afterAll(() => client.destroy());
const urlOf = async (q: string): Promise<string> => (await client.send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl!;

describe.skipIf(!svc.up)('sqs (ElasticMQ)', () => {
  brokerContract('sqs', {
    open: (queue) => SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 2 }),
    async publish(queue, bodies) {
      const p = new SqsProducer({ endpoint, credentials });
      for (const b of bodies) await p.send(queue, b);
      await p.close();
    },
    async deadLetters(queue) {
      const r = await client.send(new ReceiveMessageCommand({ QueueUrl: await urlOf(`${queue}-dead`), MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
      return (r.Messages ?? []).map((m) => ({ body: m.Body!, reason: m.MessageAttributes?.['sluice-error']?.StringValue ?? '', attempts: Number(m.MessageAttributes?.['sluice-attempts']?.StringValue) }));
    },
    openUnreachable: () => SqsSource.open({ endpoint: 'http://127.0.0.1:1', credentials, queue: 'nowhere' }),
    async cleanup(queue) {
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) })).catch(() => undefined);
    },
  });

  it('receives at most 10 per call and never more than demanded', async () => {
    const queue = unique('sqs-demand');
    const p = new SqsProducer({ endpoint, credentials, maxInFlight: 16 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send(queue, String(i))));
    await p.close();
    const source = await SqsSource.open({ endpoint, credentials, queue });
    const got: unknown[] = [];
    await source.pull(25, (d) => got.push(d), new AbortController().signal);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(10);
    const more: unknown[] = [];
    await source.pull(3, (d) => more.push(d), new AbortController().signal);
    expect(more.length).toBeLessThanOrEqual(3);
    await source.close();
    for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) }));
  });

  it('extends the visibility of a long job so no other consumer gets it', async () => {
    const queue = unique('sqs-long');
    const source = await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 1 });
    await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'long job' }));
    const attempts: number[] = [];
    const c = new BrokerConsumer(source, async (d) => {
      attempts.push(d.attempt);
      await new Promise((r) => setTimeout(r, 2500)); // 2.5 × the visibility timeout
    }, { concurrency: 2, extendEveryMs: 400 });
    try {
      expect(await until(() => c.stats().acked === 1, 10_000)).toBe(true);
      expect(attempts).toEqual([1]);
    } finally {
      await c.stop();
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) }));
    }
  });
});
