// How SqsSource takes an SQS call's failure: asked again (no answer, a 5xx, throttling) or not
// (credentials, permissions, the queue gone). Before, only "no HTTP answer" was asked again — a
// credentials provider that found nothing too, as if "unreachable", for about 13 s — and
// anything the service answered reached the consumer as the SDK's bare error, a 503 included.
// A client in memory whose errors have the SDK's shape (`name` the service's code,
// `$metadata.httpStatusCode`): ElasticMQ checks no signature and never throttles
// (test/brokers-e2e/sqs.test.ts has the credentials provider and the deleted queue against it).
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerRefusedError, BrokerUnavailableError } from '../../src/brokers/index.js';
import { SqsSource } from '../../src/sqs/index.js';
import { sqsLeaseLost } from '../../src/sqs/sqs-errors.js';

const sdkError = (code: string, status: number | undefined, message = code): Error => Object.assign(new Error(message), { name: code, $metadata: status === undefined ? {} : { httpStatusCode: status } });

/** A client that creates queues, then answers each ReceiveMessage with the next of `answers` (an error, or one message); later receives wait for the abort. */
function scripted(answers: (Error | string)[]): { client: SQSClient; receives: () => number } {
  let receives = 0;
  const send = (cmd: { constructor: { name: string } }, opts?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    const kind = cmd.constructor.name;
    if (kind === 'CreateQueueCommand') return Promise.resolve({ QueueUrl: 'http://sqs.local/q' });
    if (kind !== 'ReceiveMessageCommand') return Promise.resolve({});
    const next = answers[receives++];
    if (next instanceof Error) return Promise.reject(next);
    if (next !== undefined) return Promise.resolve({ Messages: [{ MessageId: String(receives), ReceiptHandle: 'r', Body: next }] });
    return new Promise((resolve) => opts?.abortSignal?.addEventListener('abort', () => resolve({ Messages: [] }), { once: true }));
  };
  return { client: { send, destroy: () => undefined } as unknown as SQSClient, receives: () => receives };
}

async function failure(answers: (Error | string)[]): Promise<{ err: unknown; receives: number }> {
  const s = scripted(answers);
  const c = new BrokerConsumer(await SqsSource.open({ client: s.client, queue: 'q' }), () => undefined);
  const err = await c.done.then(() => undefined, (e: unknown) => e);
  return { err, receives: s.receives() };
}

describe('SqsSource: a refusal is not retried, an outage is', () => {
  it.each([
    ['InvalidClientTokenId', 403, 'credentials'],
    ['SignatureDoesNotMatch', 403, 'credentials'],
    ['ExpiredToken', 400, 'credentials'],
    ['AccessDenied', 403, 'permission'],
    ['KMS.AccessDeniedException', 400, 'permission'],
    ['InvalidParameterValue', 400, 'request'],
  ] as const)('%s (HTTP %d): fails at once with BrokerRefusedError (%s), after one receive', async (code, status, refusal) => {
    const { err, receives } = await failure([sdkError(code, status, `the service says ${code}`)]);
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect((err as BrokerRefusedError).refusal).toBe(refusal);
    expect((err as Error).message).toContain({ credentials: 'refused the credentials', permission: 'refused a permission', request: 'refused the request' }[refusal]);
    expect((err as Error).message).toContain(`(${code}: the service says ${code})`);
    expect(receives).toBe(1);
  });

  it.each([
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['ThrottlingException', 400],
    ['RequestThrottled', 403],
  ] as const)('%s (HTTP %d): asked again, and the next answer is consumed', async (code, status) => {
    const s = scripted([sdkError(code, status), 'after']);
    const got: string[] = [];
    const c = new BrokerConsumer(await SqsSource.open({ client: s.client, queue: 'q' }), (d) => void got.push(Buffer.from(d.body).toString()));
    for (let i = 0; i < 200 && got.length === 0 && c.stats().state === 'running'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(c.stats().state).toBe('running');
    expect(got).toEqual(['after']);
    expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 1 });
    await c.stop();
  });

  it('no HTTP answer at all: still an outage, the connection reconnecting (e2e: BrokerUnavailableError once the tries are spent)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
    const s = scripted([refused]);
    const source = await SqsSource.open({ client: s.client, queue: 'q' });
    const ac = new AbortController();
    const pulled = source.pull(1, () => undefined, ac.signal);
    for (let i = 0; i < 100 && source.connection.state !== 'reconnecting'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(source.connection.state).toBe('reconnecting');
    ac.abort();
    await pulled;
    await source.close();
  });

  it('a credentials provider that finds nothing at open(): BrokerRefusedError, not "unreachable"', async () => {
    const client = { send: () => Promise.reject(sdkError('CredentialsProviderError', undefined, 'Could not load credentials from any providers')), destroy: () => undefined } as unknown as SQSClient;
    const err: unknown = await SqsSource.open({ client, queue: 'q' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect(err).not.toBeInstanceOf(BrokerUnavailableError);
    // The client given is named as such, not as the AWS region nobody configured (before: 'sqs at aws us-east-1').
    expect((err as Error).message).toMatch(/^sqs \(the client given\): refused the credentials \(CredentialsProviderError: Could not load credentials from any providers\); not retried/);
  });
});

describe('sqsLeaseLost: a receipt handle the service no longer honours (LeaseLostError to the delivery; e2e: sqs-lease-lost.test.ts)', () => {
  it.each([
    [sdkError('ReceiptHandleIsInvalid', 400), 'ReceiptHandleIsInvalid'],
    [sdkError('MessageNotInflight', 400), 'MessageNotInflight'],
    [sdkError('AWS.SimpleQueueService.MessageNotInflight', 400), 'AWS.SimpleQueueService.MessageNotInflight'],
    // AWS's own answer for a handle of a message received again (ElasticMQ answers ReceiptHandleIsInvalid).
    [sdkError('InvalidParameterValue', 400, 'Value abc for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.'), 'InvalidParameterValue'],
    [sdkError('InvalidParameterValue', 400, 'Value 50000 for parameter VisibilityTimeout is invalid.'), undefined],
    [sdkError('ServiceUnavailable', 503), undefined],
  ])('%s: %s', (err, code) => {
    expect(sqsLeaseLost(err)).toBe(code);
  });
});
