/**
 * The consumer loop on the streams layer: `forEach` over the broker's Publisher, so the
 * handler's free slots are the demand and the demand is what the broker sends. Every
 * delivery is settled after its handler, never at delivery: acked when the handler resolves;
 * when it throws, counted and given to the failure policy (retried after a backoff, or
 * dead-lettered with the error as the reason once its attempts are spent). Never silently
 * acked. A handler that runs long keeps its message with `extend()` every `extendEveryMs`; one
 * still running after `handlerTimeoutMs` is a failure (HandlerTimeoutError): its signal aborts,
 * its slot is freed and its message goes to the failure policy.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClosedError, InvalidArgumentError, optFunction, optInt, optionKeys, optKnownKeys, optNumber, TIMER_MAX_MS } from '../core/index.js';
import { forEach } from '../streams/index.js';
import { brokerPublisher } from './broker-publisher.js';
import type { ConnectionState } from './connection-state.js';
import type { Delivery, Settlement } from './delivery.js';
import type { FailureDecision, FailurePolicyOptions } from './failure-policy.js';
import { FailurePolicy, describeError } from './failure-policy.js';
import { HandlerTimeoutError, LeaseLostError, runWithin } from './handler-timeout.js';
import { nonEmpty } from './options.js';
import { argSource, type BrokerSource } from './source.js';
import { argOptions } from '../core/option-keys.js';
import { deepFreeze } from '../core/deep-freeze.js';

/**
 * `signal` aborts when the consumer gives up on the handler — stop the work there: it outlasted
 * `handlerTimeoutMs` (its reason a HandlerTimeoutError), stop()'s `graceMs` passed (ClosedError),
 * the broker failed the consumer (its error), or the message's lease was lost (LeaseLostError).
 */
export type Handler = (delivery: Delivery, signal: AbortSignal) => unknown;

export interface BrokerConsumerOptions {
  /**
   * What the consumer is called in `stats().source` and the metrics' `source` label: two
   * consumers of sources of one name (the same queue on two brokers, or twice) are told apart
   * by theirs; consumers of one name are summed. Non-empty. @default source.name
   */
  readonly name?: string;
  /** Handlers running at once. Integer >= 1. @default 1 */
  readonly concurrency?: number;
  /**
   * Messages requested at a time. 1 (the default) asks the broker for one message per message
   * finished: demand-sized. A larger number asks in fixed batches of that size (a fixed
   * prefetch), kept in a local queue of at most max(batch, concurrency). Integer >= 1. @default 1
   */
  readonly batch?: number;
  /** Retry and dead-letter policy for handlers that throw. */
  readonly onFailure?: FailurePolicyOptions;
  /** While a handler runs, tell the broker every this many ms that the work goes on (JetStream +WPI, SQS visibility, Redis Streams idle time). In (0, 2147483647]; Infinity: never. @default Infinity */
  readonly extendEveryMs?: number;
  /**
   * A handler still running after this many ms has failed (HandlerTimeoutError, counted in
   * `failed` and `timedOut`, told to `onError`): its signal aborts, its slot is freed for the
   * next message, and its message is retried or dead-lettered by `onFailure`. A handler that
   * ignores its signal runs on past `concurrency`, its late result ignored. Without it a handler
   * that never settles holds its slot and its message for ever (`stats().inFlight`). In
   * (0, 2147483647]; Infinity: never. @default Infinity
   */
  readonly handlerTimeoutMs?: number;
  /** Told of every handler failure and what was done about it (for logs). A throw here is ignored. */
  readonly onError?: (error: unknown, delivery: Delivery, decision: FailureDecision) => void;
  /**
   * Told of every settlement the broker refused or did not answer (each counted in
   * `settleErrors`): the broker's error, the delivery (its `id`, `source`) and what was to be done
   * (`ack`, `retry`, `dead-letter`, `release`). That message was not settled: it goes back to the
   * broker by its own rules and comes again (a duplicate, never a loss). A throw here is ignored.
   */
  readonly onSettleError?: (error: unknown, delivery: Delivery, settlement: Settlement) => void;
  /**
   * Told once, when the consumer has stopped: `undefined` after `stop()`, the error when the
   * broker failed it (BrokerUnavailableError, QueueDeletedError: `done` rejects with the same),
   * else the source's close() rejecting. A throw here is ignored.
   */
  readonly onStop?: (error: unknown) => void;
}

/**
 * `running`; `stopping` (stop() called, or the broker failed it: running handlers finish);
 * `stopped` (after stop()); `failed` (the broker failed it: `done` rejected, `onStop` was told).
 */
export type ConsumerState = 'running' | 'stopping' | 'stopped' | 'failed';

export interface StopOptions {
  /**
   * How long to wait for running handlers, ms. Past it, those still running are abandoned: the
   * source closes and their messages go back to the broker by its own rules (RabbitMQ at once,
   * JetStream after ack_wait, Redis Streams after claimIdleMs, SQS after the visibility
   * timeout); their late settlement fails (settleErrors). In [0, 2147483647], or Infinity: wait
   * for them however long. @default Infinity
   */
  readonly graceMs?: number;
}

export interface BrokerConsumerStats {
  /** The consumer's `name` (by default its source's name). */
  readonly source: string;
  /** Where the consumer is: `running`, `stopping`, `stopped` (by stop()), `failed` (by its broker). */
  readonly state: ConsumerState;
  /** Deliveries handed to the handler. */
  readonly received: number;
  /**
   * Acked after the handler: where the broker answers an ack (JetStream, Redis Streams, SQS), once
   * it answered; RabbitMQ once the `basic.ack` was written (AMQP acks have no reply: one lost with
   * the connection is redelivered); Kafka once finished here (the offset is committed later:
   * KafkaSource `stats().uncommitted`).
   */
  readonly acked: number;
  /** Handler failures (throws, rejections and timeouts). */
  readonly failed: number;
  /** Handlers that outlasted `handlerTimeoutMs` (counted in `failed` too). */
  readonly timedOut: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Deliveries taken and given back unhandled when the consumer stopped (Delivery.release). */
  readonly released: number;
  /** Settlements the broker refused (the message goes back to it by its own rules). */
  readonly settleErrors: number;
  /** Handlers running now. */
  readonly inFlight: number;
  /** Deliveries the source handed over (received, or waiting in the pipeline's queue for a handler). */
  readonly taken: number;
  /**
   * Messages this process holds, taken from the broker and neither settled nor given back:
   * the source's own buffer (RabbitMQ prefetch, Kafka partition buffers), the pipeline's
   * queue, the running handlers and settlements in progress. What demand bounds.
   */
  readonly held: number;
  /**
   * The most it held at once, read at every take (a sample between two event-loop turns misses
   * what a fast handler settles within one: with synchronous acks it reads 0).
   */
  readonly peakHeld: number;
  /**
   * The source's connection to the broker now: `up`, `reconnecting` (lost; the client is
   * re-establishing it, settlements fail meanwhile), `down` (lost for good, or closed), or
   * `unknown` where the source does not report it (a source of your own without `connection`).
   */
  readonly connection: ConnectionState | 'unknown';
  /** Lost connections the source's client re-established (0 where `connection` is `unknown`). */
  readonly reconnects: number;
}

export const CONSUMER_DEFAULTS = deepFreeze({ concurrency: 1, batch: 1, extendEveryMs: Infinity, handlerTimeoutMs: Infinity } as const);

const STOP_KEYS = optionKeys<StopOptions>({ graceMs: true });
const CONSUMER_KEYS = optionKeys<BrokerConsumerOptions>({ name: true, concurrency: true, batch: true, onFailure: true, extendEveryMs: true, handlerTimeoutMs: true, onError: true, onSettleError: true, onStop: true });

export class BrokerConsumer {
  readonly source: BrokerSource;
  /** `options.name`, else the source's name: `stats().source`, the metrics' `source` label. */
  readonly name: string;
  /**
   * Settles when the consumer stops: resolves after `stop()`, rejects when the broker fails it
   * (BrokerUnavailableError, QueueDeletedError). Left unobserved, that rejection is not an
   * unhandled one (it would end the process): it is `stats().state` `failed` and `onStop`'s error.
   */
  readonly done: Promise<void>;
  readonly #handler: Handler;
  readonly #policy: FailurePolicy;
  readonly #extendEveryMs: number;
  readonly #handlerTimeoutMs: number;
  readonly #onError: BrokerConsumerOptions['onError'];
  readonly #onSettleError: BrokerConsumerOptions['onSettleError'];
  readonly #onStop: BrokerConsumerOptions['onStop'];
  #state: ConsumerState = 'running';
  readonly #abort = new AbortController();
  /** Aborted when the consumer gives up on its running handlers (graceMs passed, the broker failed it): their signals abort. */
  readonly #gone = new AbortController();
  /** Set while a handler of this consumer runs, in its async context (stop() called from it must not wait for it). */
  readonly #inHandler = new AsyncLocalStorage<{ running: boolean }>();
  /** Ends the wait for running handlers (stop's graceMs passed). */
  #abandon: (() => void) | undefined;
  readonly #settling = new Set<Promise<void>>();
  /** Taken from the source, not yet handed to the handler (the pipeline's queue, a pull's late arrivals). */
  readonly #unstarted = new Set<Delivery>();
  #givenBack = 0;
  #received = 0;
  #acked = 0;
  #failed = 0;
  #timedOut = 0;
  #retried = 0;
  #deadLettered = 0;
  #settleErrors = 0;
  #inFlight = 0;
  #taken = 0;
  /** Deliveries done with here: settled, settle failed (back to the broker), or settled by the handler. */
  #released = 0;
  #peakHeld = 0;

  constructor(source: BrokerSource, handler: Handler, options: BrokerConsumerOptions = {}) {
    argSource(source, ['pull'], 'a broker source (an object with name and pull())');
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'a function', handler);
    argOptions('BrokerConsumer', options);
    optKnownKeys('BrokerConsumer', options, CONSUMER_KEYS);
    optFunction('onError', options.onError);
    optFunction('onSettleError', options.onSettleError);
    optFunction('onStop', options.onStop);
    const concurrency = optInt('concurrency', options.concurrency ?? CONSUMER_DEFAULTS.concurrency, 1);
    const batch = optInt('batch', options.batch ?? CONSUMER_DEFAULTS.batch, 1);
    const extendEveryMs = options.extendEveryMs ?? CONSUMER_DEFAULTS.extendEveryMs;
    // A Node timer past 2^31 − 1 ms fires after 1 ms: Infinity (never) or a delay a timer keeps.
    this.#extendEveryMs = extendEveryMs === Infinity ? Infinity : optNumber('extendEveryMs', extendEveryMs, Number.MIN_VALUE, TIMER_MAX_MS);
    const handlerTimeoutMs = options.handlerTimeoutMs ?? CONSUMER_DEFAULTS.handlerTimeoutMs;
    this.#handlerTimeoutMs = handlerTimeoutMs === Infinity ? Infinity : optNumber('handlerTimeoutMs', handlerTimeoutMs, Number.MIN_VALUE, TIMER_MAX_MS);
    this.#policy = new FailurePolicy(options.onFailure);
    this.name = options.name === undefined ? source.name : nonEmpty('name', options.name);
    this.#onError = options.onError;
    this.#onSettleError = options.onSettleError;
    this.#onStop = options.onStop;
    this.source = source;
    this.#handler = handler;
    // A pull the broker failed (not one the stop cancelled) fails the consumer: its running handlers are told then.
    const pull: BrokerSource['pull'] = (max, emit, signal) => source.pull(max, emit, signal).catch((err: unknown) => {
      if (!signal.aborted) this.#gone.abort(err);
      throw err;
    });
    const run = forEach(brokerPublisher({ name: source.name, pull, lag: () => source.lag(), close: () => source.close() }, (d) => this.#took(d)), (d) => this.#process(d), { concurrency, batch, signal: this.#abort.signal });
    const abandoned = new Promise<void>((resolve) => (this.#abandon = resolve));
    this.done = Promise.race([run, abandoned]).then(
      () => this.#end(undefined),
      (err: unknown) => {
        const failed = !(this.#abort.signal.aborted && err === this.#abort.signal.reason);
        this.#state = 'stopping';
        return this.#end(failed ? err : undefined);
      },
    );
    // A broker failure must not end the process because nobody awaited `done`: it is in stats and onStop.
    this.done.catch(() => undefined);
  }

  /**
   * Finish, then say how it ended: `error` (the broker's failure) or, failing that, the source's
   * close() rejecting — either way the state leaves `stopping` and onStop is told.
   */
  async #end(error: unknown): Promise<void> {
    let why = error;
    try {
      await this.#finish();
    } catch (e) {
      why ??= e;
    }
    this.#stopped(why);
    const failed = why !== undefined;
    if (failed) throw why;
  }

  #stopped(error: unknown): void {
    this.#state = error === undefined ? 'stopped' : 'failed';
    try {
      this.#onStop?.(error);
    } catch {
      // a hook must not change how the consumer ends
    }
  }

  stats(): BrokerConsumerStats {
    return {
      source: this.name,
      state: this.#state,
      received: this.#received,
      acked: this.#acked,
      failed: this.#failed,
      timedOut: this.#timedOut,
      retried: this.#retried,
      deadLettered: this.#deadLettered,
      released: this.#givenBack,
      settleErrors: this.#settleErrors,
      inFlight: this.#inFlight,
      taken: this.#taken,
      held: this.#held(),
      peakHeld: this.#peakHeld,
      connection: this.source.connection?.state ?? 'unknown',
      reconnects: this.source.connection?.reconnects ?? 0,
    };
  }

  #held(): number {
    return (this.source.buffered ?? 0) + this.#taken - this.#released;
  }

  #took(d: Delivery): void {
    this.#unstarted.add(d);
    this.#taken++;
    this.#peakHeld = Math.max(this.#peakHeld, this.#held());
  }

  /**
   * Stop taking messages; running handlers finish and settle, retries waiting out a delay in
   * this process are given back to the broker at once (`source.stopping()`); then the source closes.
   * Called from a running handler of this consumer, it resolves once the stop is under way
   * (waiting for the end would wait for that handler): `done` settles when it is over.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    argOptions('stop', options);
    optKnownKeys('stop', options, STOP_KEYS);
    const graceMs = options.graceMs === undefined || options.graceMs === Infinity ? Infinity : optNumber('graceMs', options.graceMs, 0, TIMER_MAX_MS);
    if (this.#state === 'running') this.#state = 'stopping';
    this.source.stopping?.();
    this.#abort.abort(new Error('consumer stopped'));
    // A handler that never settles would hold stop() (and done) for ever: graceMs bounds the wait.
    const abandon = (): void => (this.#gone.abort(new ClosedError(`${this.name}: stop()'s graceMs (${graceMs} ms) passed with the handler running`)), this.#abandon?.());
    const timer = Number.isFinite(graceMs) ? setTimeout(abandon, graceMs) : undefined;
    const over = this.done.catch(() => undefined).finally(() => clearTimeout(timer));
    // Called by one of its own handlers, still running: awaiting the end would wait for that
    // handler, which waits for stop() — for ever. The stop is under way; `done` says when it is over.
    if (this.#inHandler.getStore()?.running === true) return;
    await over;
  }

  async #finish(): Promise<void> {
    // Stopping: what was taken and never reached a handler (batch > concurrency queues it; a
    // pull may deliver after the cancel) goes back now, not after the broker's ack_wait / claim idle.
    if (this.#abort.signal.aborted) {
      for (const d of this.#unstarted) this.#track(d, 'release', d.release().then(() => void this.#givenBack++));
      this.#unstarted.clear();
    }
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
    await this.source.close();
  }

  async #process(d: Delivery): Promise<void> {
    this.#unstarted.delete(d);
    if (d.attempt > this.#policy.maxAttempts) {
      this.#overdelivered(d);
      return;
    }
    this.#received++;
    this.#inFlight++;
    const lease = new AbortController(); // aborted by an extension that finds the message another consumer's
    const extend = (): void => void d.extend().catch((err: unknown) => err instanceof LeaseLostError && lease.abort(err));
    const timer = Number.isFinite(this.#extendEveryMs) ? setInterval(extend, this.#extendEveryMs) : undefined;
    try {
      const run = { running: true };
      const signal = AbortSignal.any([this.#gone.signal, lease.signal]);
      await this.#inHandler.run(run, () => runWithin(this.#handlerTimeoutMs, (s) => this.#handler(d, s), signal)).finally(() => (run.running = false));
    } catch (err) {
      this.#failed++;
      if (err instanceof HandlerTimeoutError) this.#timedOut++;
      const decision = this.#policy.decide(d.attempt, err);
      try {
        this.#onError?.(err, d, decision);
      } catch {
        // a logging hook must not change what happens to the message
      }
      // A retry may wait out its delay locally (RabbitMQ): tracked, not holding a handler slot.
      if (decision.action === 'retry') this.#track(d, 'retry', d.retry(decision.delayMs, describeError(err)).then(() => void this.#retried++));
      else this.#track(d, 'dead-letter', d.deadLetter(decision.reason).then(() => void this.#deadLettered++));
      return;
    } finally {
      if (timer !== undefined) clearInterval(timer);
      this.#inFlight--;
    }
    if (d.settled !== undefined) {
      this.#released++; // the handler settled it itself
      return;
    }
    try {
      await d.ack();
      this.#acked++;
    } catch (err) {
      this.#settleFailed(err, d, 'ack');
    } finally {
      this.#released++;
    }
  }

  /**
   * Delivered more often than `maxAttempts` with no failure here to count it: the consumers that
   * had it died (or lost their connection) while handling it — a message that kills its
   * process. Run again, it would kill the next one, for ever: dead-lettered unhandled instead.
   */
  #overdelivered(d: Delivery): void {
    const reason = `delivered ${d.attempt} times, past onFailure.maxAttempts (${this.#policy.maxAttempts}), and never settled: the consumers handling it died or lost their connection (a message that kills its process?)`;
    try {
      this.#onError?.(new Error(reason), d, { action: 'dead-letter', reason });
    } catch {
      // a logging hook must not change what happens to the message
    }
    this.#track(d, 'dead-letter', d.deadLetter(reason).then(() => void this.#deadLettered++));
  }

  #settleFailed(err: unknown, d: Delivery, how: Settlement): void {
    this.#settleErrors++;
    try {
      this.#onSettleError?.(err, d, how);
    } catch {
      // a logging hook must not change what happens to the message
    }
  }

  #track(d: Delivery, how: Settlement, p: Promise<void>): void {
    const q = p
      .catch((err: unknown) => this.#settleFailed(err, d, how))
      .finally(() => {
        this.#released++;
        this.#settling.delete(q);
      });
    this.#settling.add(q);
  }
}
