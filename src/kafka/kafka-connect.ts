/**
 * Reaching a Kafka cluster at open() (KafkaSource, KafkaProducer): within `connectTimeoutMs`,
 * or a BrokerUnavailableError naming the brokers' address and the last connection error kafkajs
 * met (it reports one only to its logger, so the logger given to it keeps the last). A broker
 * that refused the SASL credentials is a BrokerRefusedError at once (not retried). kafkajs's
 * retries cannot be cancelled: an attempt given up on goes on in the background, and is
 * disconnected should it still succeed.
 */
import type { KafkaConfig } from 'kafkajs';
import { logLevel } from 'kafkajs';
import { BrokerRefusedError, BrokerUnavailableError } from '../brokers/broker-error.js';
import { optInt, TIMER_MAX_MS } from '../core/index.js';

/** connectTimeoutMs's default: kafkajs's retries against a closed port end sooner (~3.6 s); a broker that answers nothing is given up after it. */
export const KAFKA_CONNECT_TIMEOUT_MS = 10_000;

/** kafkajs's own bound on one socket's connect, ms (within connectTimeoutMs). */
const SOCKET_CONNECT_MS = 3000;

export class KafkaReach {
  readonly where: string;
  readonly timeoutMs: number;
  #lastError: string | undefined;

  /** `connectTimeoutMs` checked: an integer in [1, 2147483647] (a Node timer keeps no more). */
  constructor(where: string, connectTimeoutMs: unknown) {
    this.where = where;
    this.timeoutMs = optInt('connectTimeoutMs', connectTimeoutMs ?? KAFKA_CONNECT_TIMEOUT_MS, 1, TIMER_MAX_MS);
  }

  /** What the Kafka client is given: its logger (errors only, kept here, never printed) and its per-socket connect bound. */
  config(): Pick<KafkaConfig, 'logLevel' | 'logCreator' | 'connectionTimeout'> {
    return {
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => {
        if (entry.level <= logLevel.ERROR && typeof entry.log.message === 'string' && entry.log.message.length > 0) this.#lastError = entry.log.message;
      },
      connectionTimeout: Math.min(SOCKET_CONNECT_MS, this.timeoutMs),
    };
  }

  /** `connect()`, within connectTimeoutMs; `disconnect` ends an attempt given up on that succeeds later. */
  async connect<T>(connect: () => Promise<T>, disconnect: () => Promise<unknown>): Promise<T> {
    const attempt = connect();
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        const last = this.#lastError === undefined ? '' : `: ${this.#lastError}`;
        reject(new Error(`no connection within connectTimeoutMs (${this.timeoutMs} ms)${last}`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      if (late) attempt.then(() => disconnect().catch(() => undefined), () => undefined);
      else if (saslRefused(err)) throw new BrokerRefusedError(this.where, 'credentials', err);
      throw new BrokerUnavailableError(this.where, err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** kafkajs's error for credentials a broker refused, or a SASL mechanism it does not enable — possibly wrapped once by its retrier. */
function saslRefused(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? e.cause, depth++) {
    if (e.name === 'KafkaJSSASLAuthenticationError') return true;
  }
  return false;
}
