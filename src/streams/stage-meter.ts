/**
 * Observability of one stream stage: what it holds and does, as a gate-shaped stats snapshot
 * and gate events, so the Prometheus and OpenTelemetry adapters read it like any gate (pass
 * the meter in `gates`; its events go through `node:diagnostics_channel`):
 *
 *  - every item the stage passes on is an `admit` event (`sluice_admissions_total{gate, kind="stream"}`: items/s by rate());
 *  - every item it finished processing asynchronously is a `release` event with the latency
 *    from the start of the work (`sluice_latency_seconds`: processing latency);
 *  - every dropped item is a `drop` event with its policy (`sluice_drops_total{policy}`);
 *  - gauges: `queued` = items buffered in the stage, `inFlight` = items being processed,
 *    `limit` = its bound (capacity or concurrency); `demand` (outstanding downstream demand)
 *    and `itemsPerSec` are in the snapshot.
 *
 * Event objects are built only when someone listens.
 */
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { EventHub } from '../core/events.js';
import type { GateListener } from '../core/events.js';
import { REJECTION_REASONS } from '../core/types.js';
import type { GateStats, Outcome, RejectionReason } from '../core/types.js';
import { DrainEstimate } from '../queue/drain-estimate.js';
import { InvalidArgumentError } from '../core/errors.js';

export interface StageStats extends GateStats {
  readonly kind: 'stream';
  /** Items passed downstream since creation. */
  readonly items: number;
  /** Items passed on per second, over the last one to two seconds. */
  readonly itemsPerSec: number;
  /** Outstanding downstream demand at the last look (Number.MAX_SAFE_INTEGER: unbounded). */
  readonly demand: number;
  readonly droppedBy: Readonly<Record<string, number>>;
  /** Items whose processing failed (the stream failed with the first one). */
  readonly failed: number;
}

export class StageMeter {
  readonly name: string;
  readonly clock: Clock;
  readonly events = new EventHub();
  items = 0;
  demand = 0;
  queued = 0;
  inFlight = 0;
  limit = Infinity;
  failed = 0;
  #dropped = 0;
  readonly #droppedBy: Record<string, number> = {};
  readonly #rate: DrainEstimate;
  readonly #rejected = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;

  constructor(name: string, clock: Clock = systemClock) {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'a non-empty string for new StageMeter()', name);
    if (typeof clock !== 'object' || clock === null || typeof (clock as Partial<Clock>).now !== 'function') throw new InvalidArgumentError('clock', 'a Clock (an object with now()) for new StageMeter()', clock);
    this.name = name;
    this.clock = clock;
    this.#rate = new DrainEstimate(clock.now());
  }

  /** One item passed downstream. */
  passed(): void {
    this.items++;
    if (this.events.wants('admit')) {
      this.events.emit({ type: 'admit', gate: this.name, kind: 'stream', at: this.clock.now(), key: undefined, priority: 0, cost: 1, waitedMs: 0 });
    }
  }

  /** Start timing one item's processing; returns its start (NaN when nobody listens). */
  begin(): number {
    this.inFlight++;
    return this.events.wants('release') ? this.clock.now() : NaN;
  }

  /** One item's processing ended. */
  end(startedAt: number, outcome: Outcome): void {
    this.inFlight--;
    if (outcome === 'failure') this.failed++;
    if (startedAt === startedAt && this.events.wants('release')) {
      const at = this.clock.now();
      this.events.emit({ type: 'release', gate: this.name, kind: 'stream', at, outcome, latencyMs: at - startedAt });
    }
  }

  /** Items dropped by a policy. `emit: false` when the buffer that dropped them reports the event itself (no double count). */
  dropped(policy: string, count = 1, emit = true): void {
    this.#dropped += count;
    this.#droppedBy[policy] = (this.#droppedBy[policy] ?? 0) + count;
    if (emit && this.events.wants('drop')) this.events.emit({ type: 'drop', gate: this.name, kind: 'stream', at: this.clock.now(), policy, count });
  }

  on(listener: GateListener): () => void {
    return this.events.on(listener);
  }

  stats(): StageStats {
    return {
      name: this.name,
      kind: 'stream',
      inFlight: this.inFlight,
      queued: this.queued,
      limit: this.limit,
      tokens: undefined,
      admitted: this.items,
      released: this.items,
      rejected: { ...this.#rejected },
      dropped: this.#dropped,
      closed: false,
      items: this.items,
      itemsPerSec: this.#rate.ratePerSec(this.clock.now(), this.items),
      demand: this.demand,
      droppedBy: { ...this.#droppedBy },
      failed: this.failed,
    };
  }
}
