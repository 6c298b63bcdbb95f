/**
 * What an SQS source and producer share: the connection options, checked (a wrong type is an
 * option error naming it, not a TypeError from inside the SDK), the client made of them, and
 * how long a receive may wait for its answer — its long poll on top of the request timeout,
 * whether the client is ours or the caller's.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { InvalidOptionError, optInt, TIMER_MAX_MS } from '../core/index.js';
import { redactUrl } from '../brokers/broker-error.js';
import { nonEmpty } from '../brokers/options.js';
import { sqsError } from './sqs-errors.js';

export interface SqsConnectionOptions {
  /** Endpoint (ElasticMQ, LocalStack); omit for AWS itself. */
  readonly endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** Static credentials, or a provider the SDK calls for them (as its own `credentials`); omit to use the SDK's default chain. */
  readonly credentials?: SqsCredentials | (() => Promise<SqsCredentials>);
  /**
   * An SQS client of your own (then endpoint, region and credentials are ignored; `requestTimeoutMs` is refused: set your client's `requestHandler`).
   * A source's receive waits its long poll (`waitTimeS`) longer than the requestTimeout your
   * client's handler was given, as it does with a client of sluice's own: else every long poll
   * longer than that timeout would end as a timeout.
   */
  readonly client?: SQSClient;
  /**
   * How long one request may wait for the service's answer, ms: past it the request fails as
   * unanswered (a TimeoutError, tried once more by the SDK). A receive waits its long poll
   * (`waitTimeS`) longer. So an endpoint that takes the connection and never answers fails an
   * ack, a receive or `open()` within 2 × this (the SDK's short pause between) instead of the
   * SDK's own bound, its 15-minute socket idle timeout tried twice. An answer that stalls
   * midway is bounded by its silence: this plus 20 s (the longest long poll).
   * Integer in [1, 2147463647] (a Node timer's longest less the longest long poll). @default 10000
   */
  readonly requestTimeoutMs?: number;
}

/** Static credentials (`sessionToken` for temporary ones). */
export interface SqsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export const SQS_DEFAULTS = { requestTimeoutMs: 10_000 } as const;
/** The longest long poll SQS takes (WaitTimeSeconds), ms. */
const LONGEST_POLL_MS = 20_000;
/**
 * requestTimeoutMs's largest: every timer made of it fits a Node timer — a receive's (its long
 * poll on top), the socket's (20 s on top) and the SDK's socket-acquisition check (1 s on top).
 * Node makes a longer setTimeout 1 ms, and each receive was cut at once (2147483647: the
 * consumer `reconnecting`, then failed, a TimeoutOverflowWarning per request).
 */
export const SQS_REQUEST_TIMEOUT_MAX_MS = TIMER_MAX_MS - LONGEST_POLL_MS;

/**
 * The connection options other than requestTimeoutMs, checked before anything is made of them:
 * a wrong type otherwise failed inside the SDK ('Region is missing', 'client.send is not a
 * function', 'Resolved credential object is not valid'), or at the first send, naming no option.
 */
export function checkSqsConnection(o: SqsConnectionOptions): void {
  if (o.endpoint !== undefined) nonEmpty('endpoint', o.endpoint);
  if (o.region !== undefined) nonEmpty('region', o.region);
  const creds: unknown = o.credentials;
  if (creds !== undefined && typeof creds !== 'function') {
    const c = creds as { accessKeyId?: unknown; secretAccessKey?: unknown } | null;
    if (typeof c !== 'object' || c === null || typeof c.accessKeyId !== 'string' || c.accessKeyId === '' || typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '') {
      throw new InvalidOptionError('credentials', 'an object { accessKeyId, secretAccessKey } of non-empty strings (or a credentials provider function)', creds);
    }
  }
  const client: unknown = o.client;
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function')) {
    throw new InvalidOptionError('client', 'an SQSClient (an object with send())', client);
  }
}

/**
 * The requestTimeout (ms) a caller's client's request handler was made with, when it says
 * (the SDK's NodeHttpHandler resolves its options in `configProvider`); undefined when it
 * does not, or has none (0: no timeout).
 */
export async function clientRequestTimeoutMs(client: SQSClient): Promise<number | undefined> {
  const handler = (client as { config?: { requestHandler?: unknown } }).config?.requestHandler as { configProvider?: unknown } | undefined;
  const provider = handler?.configProvider;
  if (typeof (provider as Promise<unknown> | undefined)?.then !== 'function') return undefined;
  let config: unknown;
  try {
    config = await provider;
  } catch {
    return undefined; // the client will fail its first request with that error itself
  }
  const t = (config as { requestTimeout?: unknown } | undefined)?.requestTimeout;
  return typeof t === 'number' && Number.isFinite(t) && t > 0 ? t : undefined;
}

/** `requestTimeoutMs`, checked: undefined for a client of one's own (its timeouts are its own). */
export function sqsRequestTimeout(o: SqsConnectionOptions): number | undefined {
  if (o.client !== undefined) {
    if (o.requestTimeoutMs !== undefined) throw new InvalidOptionError('requestTimeoutMs', "absent when a client is given (set your client's requestHandler: { requestTimeout, throwOnRequestTimeout: true })", o.requestTimeoutMs);
    return undefined;
  }
  return optInt('requestTimeoutMs', o.requestTimeoutMs ?? SQS_DEFAULTS.requestTimeoutMs, 1, SQS_REQUEST_TIMEOUT_MAX_MS);
}

export function sqsClient(o: SqsConnectionOptions): SQSClient {
  if (o.client !== undefined) return o.client;
  const requestTimeout = sqsRequestTimeout(o)!;
  return new SQSClient({
    region: o.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 2,
    // Without throwOnRequestTimeout the handler only logs a request past requestTimeout.
    requestHandler: { requestTimeout, throwOnRequestTimeout: true, socketTimeout: requestTimeout + LONGEST_POLL_MS },
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    // A provider as it is: spread, a function was {} (no own keys) and the SDK signed with nothing.
    ...(o.credentials !== undefined ? { credentials: typeof o.credentials === 'function' ? o.credentials : { ...o.credentials } } : {}),
  });
}

/** Names the endpoint for errors and metrics; a client of one's own is named as such (its endpoint and region are its own, not `endpoint` / `region`). */
export function sqsWhere(o: SqsConnectionOptions): string {
  if (o.client !== undefined) return 'sqs (the client given)';
  return `sqs at ${o.endpoint !== undefined ? redactUrl(o.endpoint) : `aws ${o.region ?? process.env.AWS_REGION ?? 'us-east-1'}`}`;
}

/** Create (or find) a queue; a network failure is a BrokerUnavailableError naming the endpoint, a refusal a BrokerRefusedError saying what was refused. */
export async function queueUrl(client: SQSClient, where: string, name: string): Promise<string> {
  try {
    const r = await client.send(new CreateQueueCommand({ QueueName: name }));
    return r.QueueUrl!;
  } catch (err) {
    throw sqsError(where, name, err);
  }
}

