// An SQS client of the caller's own whose requestTimeout (1 s) is shorter than the source's long
// poll (waitTimeS 2): the source gives each receive its long poll on top of that timeout, as it
// does with a client of its own, so a long poll answered after 1.5 s is a message, not a
// TimeoutError. Before, every receive that waited out its poll was cut at the client's
// requestTimeout: the source `reconnecting`, no message ever received, and after RECEIVE_TRIES
// the consumer failed. The endpoint is a stand-in speaking SQS's JSON protocol (CreateQueue,
// ReceiveMessage), so the poll's length is the test's, not a broker's.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/brokers/index.js';
import { SqsSource } from '../../src/sqs/index.js';

const POLL_ANSWER_MS = 1500;
let receives = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const answer = (body: unknown): void => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    };
    if (target.endsWith('.CreateQueue')) {
      const { QueueName } = JSON.parse(Buffer.concat(chunks).toString()) as { QueueName: string };
      answer({ QueueUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/000000000000/${QueueName}` });
    } else if (target.endsWith('.ReceiveMessage')) {
      receives++;
      // A long poll that finds a message before its end.
      setTimeout(() => answer({ Messages: [{ MessageId: `m${receives}`, ReceiptHandle: `r${receives}`, Body: 'polled', MD5OfBody: createHash('md5').update('polled').digest('hex'), Attributes: { ApproximateReceiveCount: '1' } }] }), POLL_ANSWER_MS);
    } else {
      answer({});
    }
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('SqsSource with a client of your own', () => {
  it("a long poll longer than the client's requestTimeout is waited out, not cut at that timeout", async () => {
    const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1, requestHandler: { requestTimeout: 1000, throwOnRequestTimeout: true } });
    const source = await SqsSource.open({ client, queue: 'q', waitTimeS: 2 });
    const ac = new AbortController();
    try {
      const got: Delivery[] = [];
      const pulled = source.pull(1, (d) => got.push(d), ac.signal);
      // Bounded for a busy machine; before, the pull was still trying again (a timeout each time) past it.
      const outcome = await Promise.race([pulled.then(() => 'pulled'), new Promise((r) => setTimeout(() => r('still pulling'), 6000))]);
      expect(outcome).toBe('pulled');
      expect(got.map((d) => d.body.toString())).toEqual(['polled']);
      expect(source.connection.state).toBe('up');
      expect(receives).toBe(1);
    } finally {
      ac.abort();
      await source.close();
      client.destroy();
    }
  });
});
