/**
 * What every broker adapter implements: pull what was demanded, report lag, close. The
 * streams layer turns a source into a Publisher (see `brokerPublisher`), so the pipeline's
 * demand is the only thing that decides how much leaves the broker.
 */
import { InvalidArgumentError } from '../core/index.js';
import type { ConnectionStats } from './connection-state.js';
import type { Delivery } from './delivery.js';

export interface BrokerSource {
  /** Names the broker, its address and the queue/stream/topic, for errors and metrics. */
  readonly name: string;
  /**
   * Take at most `max` deliveries from the broker and hand each to `emit` as it arrives.
   * Resolves once at least one was emitted and no more is at hand, or when `signal` aborts;
   * while nothing is available it waits (long-poll) rather than returning empty. Never more
   * than `max`: that is the demand the pipeline signalled.
   */
  pull(max: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void>;
  /**
   * Messages the client has taken from the broker that the pipeline has not taken yet
   * (RabbitMQ's prefetched deliveries, Kafka's partition buffers, the part of a JetStream fetch
   * still in the client's queue). Absent where a reply is handed over whole (Redis Streams, SQS).
   */
  readonly buffered?: number;
  /**
   * The connection to the broker as the client reports it now (`up`, `reconnecting`, `down`) and
   * how often it came back. Absent where the source cannot tell (BrokerConsumer then reports
   * `unknown`).
   */
  readonly connection?: ConnectionStats;
  /** Messages waiting for this consumer (the M2 lag): depth, pending, log-end minus committed. */
  lag(): Promise<number>;
  /**
   * The consumer stops (BrokerConsumer calls it before waiting for what is settling): a wait
   * this process holds a message through — a retry's delay kept locally (RabbitMQ, Kafka) —
   * ends now, so the message is settled at once instead of after its delay. Optional.
   */
  stopping?(): void;
  /** Stop taking; unsettled deliveries go back to the broker (by its own rules). Idempotent. */
  close(): Promise<void>;
}

/**
 * A source argument, checked: an object with a string `name` and the methods the caller uses
 * (`pull` for a publisher or consumer, `lag` for a LagMonitor) — else InvalidArgumentError
 * naming `source`, not a TypeError from the first read of `source.name`.
 */
export function argSource(source: unknown, methods: readonly ('pull' | 'lag')[], expected: string): void {
  const s = source as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || methods.some((m) => typeof s[m] !== 'function')) throw new InvalidArgumentError('source', expected, source);
}

/**
 * The `max` of a pull, checked: an integer >= 1, or Infinity (unbounded, as the streams layer's
 * demand): read as Number.MAX_SAFE_INTEGER. Anything else throws InvalidArgumentError — a broker
 * would otherwise refuse it (`COUNT must be > 0`), send more than it (a fetch of 0 or NaN is
 * the server's default batch) or nothing at all.
 */
export function pullMax(max: unknown): number {
  if (max === Infinity) return Number.MAX_SAFE_INTEGER;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw new InvalidArgumentError('max', 'an integer >= 1 (or Infinity: unbounded)', max);
  return Math.min(max, Number.MAX_SAFE_INTEGER);
}

/** Resolve after `ms`, or at once when `signal` aborts. Never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
