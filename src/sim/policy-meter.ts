/**
 * What `sluice simulate` counts while a policy runs, per sample period: attempts offered
 * (first and retried), admissions, refusals by reason (and shadow would-refuse), goodput
 * (logical requests answered 2xx within the client's timeout), failures, timeouts,
 * client-observed latencies of answered attempts, and at each period's end the gates' state
 * (limit, in flight, queue depth, breaker). Reactions (refusals, limit changes) are kept by
 * time for M10 against the scenario's onsets.
 */
import type { RejectionReason } from '../core/types.js';
import { quantile } from './adaptive-metrics.js';

export interface SimSample {
  /** Start of the period, s. */
  readonly t: number;
  readonly offered: number;
  readonly retries: number;
  readonly admitted: number;
  /** Logical requests answered 2xx, per second. */
  readonly goodput: number;
  readonly failed: number;
  readonly timeouts: number;
  readonly refused: Readonly<Partial<Record<RejectionReason, number>>>;
  readonly shadowRefused: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly breakerOpen: number;
}

interface Bucket {
  offered: number;
  retries: number;
  admitted: number;
  good: number;
  failed: number;
  timeouts: number;
  shadowRefused: number;
  refused: Partial<Record<RejectionReason, number>>;
  latencies: number[];
  gauges: { limit: number; inFlight: number; queued: number; breakerOpen: number };
}

export class PolicyMeter {
  readonly #sampleMs: number;
  readonly #buckets: Bucket[];
  /** Times of reactions: refusals (and shadow would-refuse) and limit changes, ms, increasing. */
  readonly reactions: number[] = [];
  readonly allLatencies: number[] = [];
  logical = 0;
  attempts = 0;
  succeeded = 0;
  gaveUp = 0;

  constructor(durationMs: number, sampleMs: number) {
    this.#sampleMs = sampleMs;
    this.#buckets = Array.from({ length: Math.ceil(durationMs / sampleMs) }, () => ({
      offered: 0,
      retries: 0,
      admitted: 0,
      good: 0,
      failed: 0,
      timeouts: 0,
      shadowRefused: 0,
      refused: {},
      latencies: [],
      gauges: { limit: NaN, inFlight: 0, queued: 0, breakerOpen: 0 },
    }));
  }

  #at(t: number): Bucket {
    return this.#buckets[Math.min(this.#buckets.length - 1, Math.floor(t / this.#sampleMs))]!;
  }

  offer(t: number, retry: boolean): void {
    const b = this.#at(t);
    b.offered++;
    this.attempts++;
    if (retry) b.retries++;
    else this.logical++;
  }

  admit(t: number): void {
    this.#at(t).admitted++;
  }

  refuse(t: number, reason: RejectionReason, shadow: boolean): void {
    const b = this.#at(t);
    if (shadow) b.shadowRefused++;
    else b.refused[reason] = (b.refused[reason] ?? 0) + 1;
    this.react(t);
  }

  react(t: number): void {
    const last = this.reactions[this.reactions.length - 1];
    if (last === undefined || t - last >= 1) this.reactions.push(t);
  }

  answered(t: number, latencyMs: number, ok: boolean): void {
    const b = this.#at(t);
    if (ok) {
      b.good++;
      b.latencies.push(latencyMs);
      this.allLatencies.push(latencyMs);
      this.succeeded++;
    } else b.failed++;
  }

  timeout(t: number): void {
    this.#at(t).timeouts++;
  }

  gauges(t: number, g: Bucket['gauges']): void {
    this.#at(t).gauges = g;
  }

  /** First reaction at or after `from` and before `to`, ms after `from`; undefined: none. */
  reactionAfter(from: number, to: number): number | undefined {
    let lo = 0;
    let hi = this.reactions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.reactions[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    const r = this.reactions[lo];
    return r !== undefined && r < to ? r - from : undefined;
  }

  samples(): SimSample[] {
    const perSec = 1000 / this.#sampleMs;
    return this.#buckets.map((b, i) => ({
      t: (i * this.#sampleMs) / 1000,
      offered: b.offered * perSec,
      retries: b.retries * perSec,
      admitted: b.admitted * perSec,
      goodput: b.good * perSec,
      failed: b.failed * perSec,
      timeouts: b.timeouts * perSec,
      refused: Object.fromEntries(Object.entries(b.refused).map(([k, v]) => [k, v * perSec])),
      shadowRefused: b.shadowRefused * perSec,
      p50Ms: quantile(b.latencies, 0.5),
      p95Ms: quantile(b.latencies, 0.95),
      p99Ms: quantile(b.latencies, 0.99),
      ...b.gauges,
    }));
  }
}
