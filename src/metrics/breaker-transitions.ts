/**
 * Breaker state changes → the `breakerTransitions` counter (gate, to), as they happen. The
 * state gauge is read at scrape time: a breaker that opened and closed again between two
 * scrapes left no trace there, so an alert on it could not count opens. Each breaker's series
 * start at 0 when it is first seen, before its first change: a counter series born at 1 hides
 * that first increase from PromQL's `increase()`.
 */
import { BREAKER_STATES } from '../breaker/index.js';
import type { StateChangeListener } from '../breaker/index.js';
import type { CounterKey, Labels } from './instruments.js';
import type { MetricsConfig, StatsSource } from './options.js';

/** A gate that tells of its state changes (a CircuitBreaker). */
export interface BreakerSource extends StatsSource {
  onStateChange(listener: StateChangeListener): () => void;
}

export function isBreaker(gate: StatsSource): gate is BreakerSource {
  return typeof (gate as Partial<BreakerSource>).onStateChange === 'function';
}

type Inc = (metric: CounterKey, labels: Labels, n: number) => void;

export class BreakerTransitions {
  readonly #filter: MetricsConfig['filter'];
  readonly #inc: Inc;
  readonly #seen = new WeakSet<BreakerSource>();

  constructor(c: MetricsConfig, inc: Inc) {
    this.#filter = c.filter;
    this.#inc = inc;
  }

  /** Start `gate`'s series at 0 (once per breaker; a rebuilt breaker of the same name adds 0 to its series). */
  start(gate: BreakerSource): void {
    if (this.#seen.has(gate)) return;
    this.#seen.add(gate);
    const s = gate.stats();
    if (this.#filter !== undefined && !this.#filter(s.name, s.kind)) return;
    for (const to of BREAKER_STATES) this.#inc('breakerTransitions', { gate: s.name, to }, 0);
  }

  readonly record: StateChangeListener = (change) => {
    if (this.#filter !== undefined && !this.#filter(change.breaker, change.kind)) return;
    this.#inc('breakerTransitions', { gate: change.breaker, to: change.to }, 1);
  };
}
