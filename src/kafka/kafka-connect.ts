/**
 * Reaching a Kafka cluster at open() (KafkaSource, KafkaProducer): within `connectTimeoutMs`,
 * or a BrokerUnavailableError naming the brokers' address and the last connection error kafkajs
 * met (it reports one only to its logger, so the logger given to it keeps the last). A broker
 * that refused the SASL credentials is a BrokerRefusedError at once (not retried). kafkajs's
 * retries cannot be cancelled: an attempt given up on goes on in the background — but every
 * connection it opened is closed at once, and any it opens later as soon as it is made (the
 * client is given a socket factory of ours for this); it is disconnected should it still succeed.
 * Before, a broker that took the connection and answered nothing kept it open, and the process
 * alive, for kafkajs's 30 s request timeout after open() had rejected.
 */
import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory, KafkaConfig } from 'kafkajs';
import { logLevel } from 'kafkajs';
import { BrokerRefusedError, BrokerUnavailableError } from '../brokers/broker-error.js';
import { optInt, TIMER_MAX_MS } from '../core/index.js';

/** connectTimeoutMs's default: kafkajs's retries against a closed port end sooner (~3.6 s); a broker that answers nothing is given up after it. */
export const KAFKA_CONNECT_TIMEOUT_MS = 10_000;

/** kafkajs's own bound on one socket's connect, ms (within connectTimeoutMs). */
const SOCKET_CONNECT_MS = 3000;

/** TCP keep-alive of a broker connection, ms (as kafkajs's own socket factory sets it). */
const KEEP_ALIVE_MS = 60_000;

export class KafkaReach {
  readonly where: string;
  readonly timeoutMs: number;
  #lastError: string | undefined;
  /** The connections opened while connect() runs (until it settles in time). */
  #opening: Set<Socket> | undefined;
  /** Set once connect() gave up: what closes each connection the client still opens. */
  #givenUp: Error | undefined;

  /** `connectTimeoutMs` checked: an integer in [1, 2147483647] (a Node timer keeps no more). */
  constructor(where: string, connectTimeoutMs: unknown) {
    this.where = where;
    this.timeoutMs = optInt('connectTimeoutMs', connectTimeoutMs ?? KAFKA_CONNECT_TIMEOUT_MS, 1, TIMER_MAX_MS);
  }

  /** What the Kafka client is given: its logger (errors only, kept here, never printed) and its per-socket connect bound. */
  config(): Pick<KafkaConfig, 'logLevel' | 'logCreator' | 'connectionTimeout' | 'socketFactory'> {
    return {
      socketFactory: this.#socket,
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => {
        if (entry.level <= logLevel.ERROR && typeof entry.log.message === 'string' && entry.log.message.length > 0) this.#lastError = entry.log.message;
      },
      connectionTimeout: Math.min(SOCKET_CONNECT_MS, this.timeoutMs),
    };
  }

  /** kafkajs's own (network/socketFactory.js), but a connection is kept track of while connect() runs, and closed once it gave up. */
  readonly #socket: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const socket = ssl ? tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl }, onConnect) : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    // An error, not a bare close: kafkajs hears of a socket's end by 'error' or 'end' only.
    if (this.#givenUp !== undefined) socket.destroy(this.#givenUp);
    else if (this.#opening !== undefined) {
      const opening = this.#opening;
      opening.add(socket);
      socket.once('close', () => opening.delete(socket));
    }
    return socket;
  };

  /** Stop keeping track: connect() succeeded in time (`err` undefined), or close what it opened and what it opens from now on. */
  #settle(err?: Error): void {
    const opening = this.#opening;
    this.#opening = undefined;
    if (err === undefined) return;
    this.#givenUp = err;
    for (const s of opening ?? []) s.destroy(err);
  }

  /** `connect()`, within connectTimeoutMs; `disconnect` ends an attempt given up on that succeeds later. */
  async connect<T>(connect: () => Promise<T>, disconnect: () => Promise<unknown>): Promise<T> {
    this.#opening = new Set();
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
      const ok = await Promise.race([attempt, deadline]);
      this.#settle();
      return ok;
    } catch (err) {
      this.#settle(new Error(`given up: no connection within connectTimeoutMs (${this.timeoutMs} ms)`));
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
