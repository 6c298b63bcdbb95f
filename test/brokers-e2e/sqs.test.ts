// SQS against ElasticMQ (started by scripts/brokers/elasticmq.sh; SQS_ENDPOINT). The JVM
// server is not on every machine, so this runs in `npm run test:brokers`, which .ci/run runs.
import { DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerRefusedError, BrokerUnavailableError, QueueDeletedError } from '../../src/brokers/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { RECEIVE_TRIES } from '../../src/sqs/sqs-source.js';
import { brokerContract } from '../brokers/contract.js';
import { until, unique } from '../brokers/services.js';
import { client, credentials, endpoint, svc, urlOf } from './sqs-admin.js';
import { TcpCut } from './tcp-cut.js';
import { stopMidBurst } from './stop-burst.js';


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

  it('the endpoint unreachable for a while: stats say reconnecting (before: unknown, and the first refused receive failed the consumer), up again with 1 reconnect, and messages flow after', async () => {
    const queue = unique('sqs-cut');
    const target = new URL(endpoint);
    const cut = await TcpCut.open({ host: target.hostname, port: Number(target.port) });
    const source = await SqsSource.open({ endpoint: `http://127.0.0.1:${cut.port}`, credentials, queue, waitTimeS: 0 });
    const got: string[] = [];
    const c = new BrokerConsumer(source, (d) => void got.push(Buffer.from(d.body).toString()));
    try {
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'before' }));
      expect(await until(() => got.includes('before'), 10_000)).toBe(true);
      expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 0 });
      await cut.cut();
      expect(await until(() => c.stats().connection === 'reconnecting', 10_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000)); // a few refused receives: still riding it out
      expect(c.stats()).toMatchObject({ state: 'running', connection: 'reconnecting' });
      await cut.mend();
      expect(await until(() => c.stats().connection === 'up', 10_000)).toBe(true);
      expect(c.stats().reconnects).toBe(1);
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'after' }));
      expect(await until(() => got.includes('after'), 10_000)).toBe(true);
    } finally {
      await cut.mend();
      await c.stop();
      await cut.cut();
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) }));
    }
    expect(c.stats()).toMatchObject({ state: 'stopped', connection: 'down' });
  });

  it(`the endpoint unreachable for good: the consumer fails with BrokerUnavailableError after ${RECEIVE_TRIES} receives, its connection down`, async () => {
    const queue = unique('sqs-gone');
    const target = new URL(endpoint);
    const cut = await TcpCut.open({ host: target.hostname, port: Number(target.port) });
    const source = await SqsSource.open({ endpoint: `http://127.0.0.1:${cut.port}`, credentials, queue, waitTimeS: 0 });
    const c = new BrokerConsumer(source, () => undefined);
    await cut.cut();
    await expect(c.done).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(c.stats()).toMatchObject({ state: 'failed', connection: 'down' });
    for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) }));
  });
  it('credentials that stop working mid-run (a provider that finds none): the consumer fails at once with BrokerRefusedError naming the cause — not 10 receives (about 13 s) "reconnecting" and then "unreachable"', async () => {
    const queue = unique('sqs-creds');
    let revoked = false;
    let asked = 0;
    // As temporary credentials do: they expire at once, so the SDK asks the provider for every request.
    const provider = (): Promise<{ accessKeyId: string; secretAccessKey: string; expiration: Date }> => {
      if (revoked) asked++;
      if (!revoked) return Promise.resolve({ accessKeyId: 'x', secretAccessKey: 'x', expiration: new Date(Date.now() + 1) });
      return Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    };
    const own = new SQSClient({ endpoint, region: 'us-east-1', credentials: provider, maxAttempts: 1 });
    const source = await SqsSource.open({ client: own, queue, waitTimeS: 0 });
    const got: string[] = [];
    const seen = new Set<string>();
    const c = new BrokerConsumer(source, (d) => void got.push(Buffer.from(d.body).toString()));
    const watch = setInterval(() => seen.add(c.stats().connection), 5);
    try {
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'before' }));
      expect(await until(() => got.includes('before'), 10_000)).toBe(true);
      revoked = true;
      const err: unknown = await c.done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerRefusedError);
      expect(err).not.toBeInstanceOf(BrokerUnavailableError);
      expect((err as BrokerRefusedError).refusal).toBe('credentials');
      expect((err as Error).message).toMatch(/^sqs \(the client given\) queue "sqs-creds[^"]*": refused the credentials \(CredentialsProviderError: Could not load credentials from any providers\)/);
      expect(asked).toBe(1); // one receive, not tried again
      expect(seen.has('reconnecting')).toBe(false);
      expect(c.stats()).toMatchObject({ state: 'failed', connection: 'down' });
    } finally {
      clearInterval(watch);
      await c.stop();
      own.destroy();
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) })).catch(() => undefined);
    }
  });

  it('the queue deleted while consuming: the consumer fails with QueueDeletedError (before: the SDK\'s bare QueueDoesNotExist), lag() too', async () => {
    const queue = unique('sqs-deleted');
    const source = await SqsSource.open({ endpoint, credentials, queue, waitTimeS: 0 });
    const c = new BrokerConsumer(source, () => undefined);
    try {
      await client.send(new DeleteQueueCommand({ QueueUrl: source.url }));
      const err: unknown = await c.done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(QueueDeletedError);
      expect((err as Error).message).toMatch(/the queue "sqs-deleted[^"]*" was deleted \(the server answered QueueDoesNotExist\)/);
      expect(c.stats()).toMatchObject({ state: 'failed', connection: 'down' });
      await expect(source.lag()).rejects.toBeInstanceOf(QueueDeletedError);
    } finally {
      await c.stop();
      await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(`${queue}-dead`) })).catch(() => undefined);
    }
  });
  it('stop() mid-burst: what was taken and never handled is visible again at once (visibility 0), not after the 30 s visibility timeout; nothing lost', async () => {
    const queue = unique('sqs-burst');
    const p = new SqsProducer({ endpoint, credentials, maxInFlight: 16 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send(queue, String(i))));
    await p.close();
    const s = await stopMidBurst(await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 30, waitTimeS: 0 }));
    const rest = new Set<string>();
    const c = new BrokerConsumer(await SqsSource.open({ endpoint, credentials, queue, visibilityTimeoutS: 30, waitTimeS: 0 }), (d) => void rest.add(Buffer.from(d.body).toString()), { concurrency: 8 });
    try {
      // Well within the 30 s a message not released would stay invisible.
      expect(await until(() => rest.size === 30 - s.acked, 10_000)).toBe(true);
    } finally {
      await c.stop();
      for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) })).catch(() => undefined);
    }
  });
});
