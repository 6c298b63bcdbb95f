// An SQS endpoint that accepts the TCP connection and never answers (a TcpCut relay in front of
// ElasticMQ, stalled: a proxy or load balancer whose backend hangs, a network that drops the
// replies). Every request gives up after `requestTimeoutMs` (the SDK tries twice): open() and a
// send fail naming the endpoint, a consumer's receives turn it `reconnecting`, and stop() settles
// within its bound, the ack it could not get counted as a settle error and the message delivered
// again — told to onSettleError, which names it. Before, the SDK's only bound was its 15-minute socket idle timeout, tried twice.
import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError } from '../../src/brokers/index.js';
import { SqsProducer, SqsSource } from '../../src/sqs/index.js';
import { SQS_REQUEST_TIMEOUT_MAX_MS } from '../../src/sqs/sqs-source.js';
import { sqs, until, unique } from '../brokers/services.js';
import { TcpCut } from './tcp-cut.js';
import { holdingConsumer, timedStop } from './timed-stop.js';

const svc = await sqs();
const endpoint = svc.url;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const client = new SQSClient({ endpoint, region: 'us-east-1', credentials });
afterAll(() => client.destroy());
const target = new URL(endpoint);
const text = (b: Uint8Array): string => Buffer.from(b).toString();

// Long enough for ElasticMQ's answers on a busy machine (its first ones, a JVM warming up, took over 1 s).
const REQUEST_MS = 2000;
/** One request unanswered, tried twice (the SDK's backoff between, at most 200 ms), with 6 s for a busy machine (a CPU hog beside the CI; the defect this bounds hung for 900 s). */
const NO_ANSWER_MS = 2 * REQUEST_MS + 200 + 6000;

async function cleanup(queue: string): Promise<void> {
  for (const q of [queue, `${queue}-dead`]) {
    const url = (await client.send(new GetQueueUrlCommand({ QueueName: q })).catch(() => undefined))?.QueueUrl;
    if (url !== undefined) await client.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  }
}

/** How long `p` took to settle, and how: the value or the error. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - t0, value };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}

describe.skipIf(!svc.up)('sqs (ElasticMQ): the largest requestTimeoutMs', () => {
  // Its range once ended at 2147483647, a Node timer's longest: a receive's timer (its long poll on top) was
  // longer, which Node makes 1 ms — every receive cut at once, the consumer reconnecting, then failed.
  it('the top of its range does not cut a receive short: its long poll on top still fits a timer', async () => {
    const queue = unique('sqs-longest');
    await client.send(new CreateQueueCommand({ QueueName: queue }));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const source = await SqsSource.open({ endpoint, credentials, queue, waitTimeS: 1, requestTimeoutMs: SQS_REQUEST_TIMEOUT_MAX_MS });
    try {
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'longest' }));
      const got: string[] = [];
      const ac = new AbortController();
      const pulled = await timed(source.pull(1, (d) => void got.push(text(d.body)), ac.signal));
      expect(pulled.error === undefined ? '' : String(pulled.error as Error)).toBe('');
      expect(got).toEqual(['longest']);
      expect(source.connection).toMatchObject({ state: 'up', reconnects: 0 });
      expect(warnings.filter((w) => w.startsWith('TimeoutOverflowWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await source.close();
      await cleanup(queue);
    }
  }, 60_000);
});

describe.skipIf(!svc.up)('sqs (ElasticMQ): an endpoint that accepts and never answers', () => {
  it('open() and a producer send fail within requestTimeoutMs, tried twice, with BrokerUnavailableError naming the endpoint and the timeout', async () => {
    const cut = await TcpCut.open({ host: target.hostname, port: Number(target.port) });
    cut.stall();
    const at = `http://127.0.0.1:${cut.port}`;
    const p = new SqsProducer({ endpoint: at, credentials, requestTimeoutMs: REQUEST_MS });
    try {
      for (const r of [await timed(SqsSource.open({ endpoint: at, credentials, queue: unique('sqs-stall'), requestTimeoutMs: REQUEST_MS })), await timed(p.send(unique('sqs-stall'), 'x'))]) {
        const why = JSON.stringify({ ms: r.ms, error: String(r.error) });
        expect(r.error, why).toBeInstanceOf(BrokerUnavailableError);
        expect((r.error as Error).message).toMatch(new RegExp(`^sqs at ${at}: unreachable \\(.*${REQUEST_MS} ms requestTimeout`));
        expect(r.ms, why).toBeLessThanOrEqual(NO_ANSWER_MS);
        expect(r.ms, why).toBeGreaterThanOrEqual(2 * REQUEST_MS - 50); // tried twice, each waited out
      }
    } finally {
      await p.close();
      await cut.cut();
    }
  }, 60_000);

  it('stop() with a handler finishing while the endpoint stalls settles within the bound: its delete unanswered is a settle error, not acked, and the message comes again', async () => {
    const queue = unique('sqs-stall-stop');
    await client.send(new CreateQueueCommand({ QueueName: queue })); // not through the relay's short timeout: ElasticMQ's first answers are slow
    const cut = await TcpCut.open({ host: target.hostname, port: Number(target.port) });
    const source = await SqsSource.open({ endpoint: `http://127.0.0.1:${cut.port}`, credentials, queue, visibilityTimeoutS: 2, waitTimeS: 1, requestTimeoutMs: REQUEST_MS });
    const told: string[] = [];
    const { consumer, seen, release } = holdingConsumer(source, { onSettleError: (err, d, how) => told.push(`${how} ${text(d.body)}: ${err instanceof BrokerUnavailableError ? 'BrokerUnavailableError' : 'other'} ${(err as Error).message}`) });
    try {
      for (const body of ['first', 'held']) await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: body }));
      expect(await until(() => consumer.stats().acked === 1 && seen.includes('held'), 20_000)).toBe(true);
      cut.stall();
      const why = await timedStop(consumer, release, NO_ANSWER_MS);
      expect(consumer.stats(), why).toMatchObject({ received: 2, acked: 1, settleErrors: 1, held: 0, state: 'stopped', connection: 'down' });
      // What was not acked, named: the message, what was to be done, the source and why.
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(new RegExp(`^ack held: BrokerUnavailableError sqs at http://127\\.0\\.0\\.1:${cut.port} queue "${queue}": unreachable \\(.*${REQUEST_MS} ms requestTimeout`));
      // Not deleted: visible again once its visibility timeout (2 s) ran out.
      const again: string[] = [];
      const signal = AbortSignal.timeout(20_000);
      while (!again.includes('held') && !signal.aborted) {
        const r = await client.send(new ReceiveMessageCommand({ QueueUrl: source.url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
        again.push(...(r.Messages ?? []).map((m) => m.Body ?? ''));
      }
      expect(again).toEqual(['held']);
    } finally {
      release();
      await consumer.stop({ graceMs: 0 });
      await cut.cut();
      await cleanup(queue);
    }
  }, 60_000);

  it('a consumer whose endpoint stalls is `reconnecting` once a receive goes unanswered (its long poll plus requestTimeoutMs), and `up` with messages flowing once it answers again', async () => {
    const queue = unique('sqs-stall-run');
    await client.send(new CreateQueueCommand({ QueueName: queue }));
    const cut = await TcpCut.open({ host: target.hostname, port: Number(target.port) });
    const source = await SqsSource.open({ endpoint: `http://127.0.0.1:${cut.port}`, credentials, queue, waitTimeS: 2, requestTimeoutMs: REQUEST_MS });
    const got: string[] = [];
    const c = new BrokerConsumer(source, (d) => void got.push(text(d.body)));
    try {
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'before' }));
      expect(await until(() => got.includes('before'), 20_000)).toBe(true);
      // Idle: receives of 2 s long poll answered empty — each given its long poll on top of requestTimeoutMs, none cut short.
      await new Promise((r) => setTimeout(r, 2 * 2000 + 500));
      expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 0 });
      cut.stall();
      const stalled = Date.now();
      // The receive under way: its 2 s of long poll + requestTimeoutMs, tried twice.
      expect(await until(() => c.stats().connection === 'reconnecting', 2 * (2000 + REQUEST_MS) + 200 + 5000), JSON.stringify(c.stats())).toBe(true);
      expect(Date.now() - stalled).toBeGreaterThanOrEqual(2000 + REQUEST_MS - 50); // its retry waits the whole of it
      await cut.mend();
      await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'after' }));
      expect(await until(() => got.includes('after'), 20_000)).toBe(true);
      expect(c.stats()).toMatchObject({ state: 'running', connection: 'up', reconnects: 1 });
    } finally {
      await c.stop({ graceMs: 0 });
      await cut.cut();
      await cleanup(queue);
    }
  }, 60_000);
});
