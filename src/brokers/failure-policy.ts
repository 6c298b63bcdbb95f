/**
 * What happens to a delivery whose handler threw: retried after a backoff until
 * `maxAttempts`, then dead-lettered with the error as the reason. Attempt n's delay
 * (n = the attempt that failed, 1-based) is
 *
 *     delay(n) = min(maxDelayMs, baseDelayMs · 2^(n−1))
 *
 * The attempt count is the broker's where it has one (JetStream, SQS, Redis Streams, a
 * RabbitMQ header), so it survives a restart of the consumer.
 */
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber, optRecord, TIMER_MAX_MS } from '../core/index.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface FailurePolicyOptions {
  /** Attempts before a message is dead-lettered. Integer >= 1. @default 5 */
  readonly maxAttempts?: number;
  /** Delay before the first retry, ms. In [0, 2147483647] (what a Node timer keeps). @default 1000 */
  readonly baseDelayMs?: number;
  /** Longest delay, ms. >= baseDelayMs; a delay never exceeds 2147483647 (~24.8 days). @default 60000 */
  readonly maxDelayMs?: number;
}

export const FAILURE_POLICY_DEFAULTS = deepFreeze({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 } as const);

export type FailureDecision = { readonly action: 'retry'; readonly delayMs: number } | { readonly action: 'dead-letter'; readonly reason: string };

const FAILURE_POLICY_KEYS = optionKeys<FailurePolicyOptions>({ maxAttempts: true, baseDelayMs: true, maxDelayMs: true });

export class FailurePolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  constructor(options: FailurePolicyOptions = {}, prefix = 'onFailure') {
    optRecord(prefix, options, 'an object { maxAttempts, baseDelayMs, maxDelayMs }');
    optKnownKeys('failure policy', options, FAILURE_POLICY_KEYS, `${prefix}.`);
    const d = FAILURE_POLICY_DEFAULTS;
    this.maxAttempts = optInt(`${prefix}.maxAttempts`, options.maxAttempts ?? d.maxAttempts, 1);
    this.baseDelayMs = optNumber(`${prefix}.baseDelayMs`, options.baseDelayMs ?? d.baseDelayMs, 0, TIMER_MAX_MS);
    this.maxDelayMs = optNumber(`${prefix}.maxDelayMs`, options.maxDelayMs ?? d.maxDelayMs, 0);
    if (this.maxDelayMs < this.baseDelayMs) throw new InvalidOptionError(`${prefix}.maxDelayMs`, `a number >= baseDelayMs (${this.baseDelayMs})`, this.maxDelayMs);
  }

  decide(attempt: number, error: unknown): FailureDecision {
    if (attempt >= this.maxAttempts) return { action: 'dead-letter', reason: `${describeError(error)} (attempt ${attempt} of ${this.maxAttempts})` };
    return { action: 'retry', delayMs: Math.min(this.maxDelayMs, TIMER_MAX_MS, this.baseDelayMs * 2 ** (Math.max(1, attempt) - 1)) };
  }
}

/** String(value), or what can be said of it when that throws (an object without a prototype, a toString that throws). */
function asText(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `(a ${typeof value})`; // a revoked Proxy
    }
  }
}

/** "Name: message", one line, at most 500 characters: fit for a header. Never throws, whatever was thrown. */
export function describeError(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? `${asText(error.name)}: ${asText(error.message)}` : `thrown: ${asText(error)}`;
  } catch {
    text = `thrown: ${asText(error)}`; // instanceof on a revoked Proxy, a name getter that throws
  }
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}
