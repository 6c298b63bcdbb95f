/**
 * A broker could not be reached or refused the connection: names the broker and its address,
 * with the client's error as `cause`.
 */
import { SluiceError } from '../core/index.js';

export class BrokerUnavailableError extends SluiceError {
  /** e.g. "rabbitmq at amqp://127.0.0.1:5672". */
  readonly broker: string;
  constructor(broker: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message || cause.name : String(cause);
    super('SLUICE_ERR_BROKER_UNAVAILABLE', `${broker}: unreachable (${why})`, { cause });
    this.broker = broker;
  }
  override get name(): string {
    return 'BrokerUnavailableError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_BROKER_UNAVAILABLE';
  }
}

/**
 * The queue a consumer read was deleted under it: the server cancelled the consumer (RabbitMQ's
 * basic.cancel) or answered 404 NOT_FOUND. Not an outage — reconnecting will not bring the
 * queue back; its messages went with it.
 */
export class QueueDeletedError extends SluiceError {
  /** The source's name: broker, address and queue. */
  readonly broker: string;
  readonly queue: string;
  constructor(broker: string, queue: string, how: string, cause?: unknown) {
    super('SLUICE_ERR_BROKER_QUEUE_DELETED', `${broker}: the queue ${JSON.stringify(queue)} was deleted (${how}); the messages it held went with it`, { cause });
    this.broker = broker;
    this.queue = queue;
  }
  override get name(): string {
    return 'QueueDeletedError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_BROKER_QUEUE_DELETED';
  }
}

/**
 * The broker answered, and the answer will be the same however often it is asked: credentials
 * it does not accept (or none to be found), a permission it does not grant, a request it
 * rejects. Not an outage, so not retried: names the broker, what it refused and why, with the
 * client's error as `cause`.
 */
export class BrokerRefusedError extends SluiceError {
  /** The source's or producer's name: broker, address (and queue). */
  readonly broker: string;
  /** What went wrong, in a word: 'credentials' (not accepted, expired, none found), 'permission', 'request'. */
  readonly refusal: 'credentials' | 'permission' | 'request';
  constructor(broker: string, refusal: 'credentials' | 'permission' | 'request', cause: unknown) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const what = { credentials: 'the credentials', permission: 'a permission', request: 'the request' }[refusal];
    super('SLUICE_ERR_BROKER_REFUSED', `${broker}: refused ${what} (${why}); not retried, as asking again gets the same answer`, { cause });
    this.broker = broker;
    this.refusal = refusal;
  }
  override get name(): string {
    return 'BrokerRefusedError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_BROKER_REFUSED';
  }
}

/** A URL with its password replaced, fit for an error message or a metric label (core/redact-url.ts). */
export { redactUrl } from '../core/redact-url.js';

/**
 * What the broker refused at connect, when the client's error says it was reached and said no
 * (calling it unreachable sends the operator to the network): 'credentials' for amqplib's
 * `ACCESS_REFUSED - Login was refused`, Redis `WRONGPASS` / `NOAUTH`, NATS `Authorization
 * Violation` / `Authentication Expired`; undefined for anything else (a RabbitMQ virtual host
 * refused to the user reaches amqplib's error without its reason: still "unreachable").
 */
export function connectRefusal(err: unknown): 'credentials' | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (/^WRONGPASS|^NOAUTH|authorization violation|authentication expired|ACCESS.REFUSED - Login was refused/i.test(e.message)) return 'credentials';
    if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED') return 'credentials';
  }
  return undefined;
}

/**
 * Connect, or fail naming `broker` (its address, password hidden) with the client's error as
 * cause: a BrokerRefusedError for credentials refused (connectRefusal), else a BrokerUnavailableError.
 */
export async function reach<T>(broker: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    const refusal = connectRefusal(err);
    throw refusal === undefined ? new BrokerUnavailableError(broker, err) : new BrokerRefusedError(broker, refusal, err);
  }
}
