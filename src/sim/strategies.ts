/**
 * The source documents' headline scenario, measured: a producer at 10,000 events/s against a
 * consumer at 5,000/s for 60 s, once per strategy, in virtual time, through sluice's real
 * primitives. Nothing here is asserted; every figure is counted as the simulation runs.
 *
 * Time advances in steps of `stepMs`. In each step the consumer takes up to
 * consumerRate x stepMs events; the producer offers producerRate x stepMs events. An open-loop
 * producer (every strategy but `block`) offers them whatever happens; the `block` producer
 * awaits each put and so falls behind — the events it could not produce yet are "held at
 * source". Delay is measured from an event's intended arrival time to its take.
 */
import { flushMicrotasks, VirtualClock } from '../core/index.js';
import { Channel } from '../queue/index.js';
import type { OverflowStrategy } from '../queue/index.js';
import { TokenBucket } from '../rate/index.js';

export type StrategyName = 'unbounded' | 'block' | 'drop-newest' | 'drop-oldest' | 'reject' | 'token-bucket';

export const STRATEGIES: readonly StrategyName[] = ['unbounded', 'block', 'drop-newest', 'drop-oldest', 'reject', 'token-bucket'];

export interface ScenarioOptions {
  /** Events per second offered by the producer. @default 10_000 */
  readonly producerPerSec?: number;
  /** Events per second the consumer can process. @default 5_000 */
  readonly consumerPerSec?: number;
  /** Simulated duration, seconds. @default 60 */
  readonly durationSec?: number;
  /** Buffer capacity of the bounded strategies (1 s of consumer work would be 5,000). @default 1_000 */
  readonly capacity?: number;
  /** Burst of the token-bucket strategy (its rate is the consumer's rate). @default 100 */
  readonly burst?: number;
  /** Bytes one buffered event is assumed to occupy, for the memory proxy. @default 256 */
  readonly eventBytes?: number;
  /** Simulation step, ms. @default 1 */
  readonly stepMs?: number;
  /** Called about every simulated second with the progress so far. */
  readonly onProgress?: (p: Progress) => void;
}

export interface Progress {
  readonly strategy: StrategyName;
  readonly simulatedSec: number;
  readonly buffered: number;
  readonly delivered: number;
}

export interface StrategyResult {
  readonly strategy: StrategyName;
  /** Events the world generated (producer rate x duration). */
  readonly offered: number;
  readonly peakBuffer: number;
  /** peakBuffer x eventBytes. */
  readonly peakMemoryBytes: number;
  readonly delivered: number;
  /** Accepted, then dropped by the buffer's policy (reported through onDrop, counted). */
  readonly lost: number;
  /** Refused at the door; the producer was told (queue_full, rate_limited). */
  readonly rejected: number;
  /** Still in the buffer at the end (at risk if the process dies). */
  readonly bufferedAtEnd: number;
  /** Not yet produced: the blocked producer fell this far behind. */
  readonly heldAtSource: number;
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
}

export const SCENARIO_DEFAULTS = {
  producerPerSec: 10_000,
  consumerPerSec: 5_000,
  durationSec: 60,
  capacity: 1_000,
  burst: 100,
  eventBytes: 256,
  stepMs: 1,
} as const;

interface Event {
  readonly bornAt: number;
}

export async function simulateStrategy(strategy: StrategyName, options: ScenarioOptions = {}): Promise<StrategyResult> {
  const o = { ...SCENARIO_DEFAULTS, ...options };
  const clock = new VirtualClock();
  const perStepIn = (o.producerPerSec * o.stepMs) / 1000;
  const perStepOut = (o.consumerPerSec * o.stepMs) / 1000;
  const steps = Math.round((o.durationSec * 1000) / o.stepMs);
  let lost = 0;
  let rejected = 0;
  const overflow: Record<StrategyName, OverflowStrategy> = {
    unbounded: 'block',
    block: 'block',
    'drop-newest': 'drop-newest',
    'drop-oldest': 'drop-oldest',
    reject: 'reject',
    'token-bucket': 'reject',
  };
  const channel = new Channel<Event>({
    name: strategy,
    clock,
    // "Unbounded" is a channel nobody will ever fill: the buffer most code has by accident.
    capacity: strategy === 'unbounded' ? Number.MAX_SAFE_INTEGER : o.capacity,
    overflow: overflow[strategy],
    onDrop: () => lost++,
  });
  const bucket =
    strategy === 'token-bucket' ? new TokenBucket({ name: 'producer-rate', clock, rate: o.consumerPerSec, perMs: 1000, burst: o.burst }) : undefined;

  const delays = new Float64Array(Math.ceil(o.producerPerSec * o.durationSec) + 1);
  let delivered = 0;
  let peak = 0;
  let produced = 0;
  let inCredit = 0;
  let outCredit = 0;

  // The blocking producer: a real async loop that awaits each put.
  let target = 0;
  let wake: (() => void) | undefined;
  let stopped = false;
  const blockingProducer = async (): Promise<void> => {
    while (!stopped) {
      if (produced >= target) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      // The event's intended arrival: when the world generated it at producerPerSec.
      const bornAt = (produced * 1000) / o.producerPerSec;
      produced++;
      try {
        await channel.put({ bornAt });
      } catch {
        produced--; // closed at the end of the run: the blocked event is still with the producer
        return;
      }
    }
  };
  const producerDone = strategy === 'block' ? blockingProducer() : undefined;

  for (let step = 1; step <= steps; step++) {
    clock.advance(o.stepMs);
    const now = clock.now();
    // Producer
    inCredit += perStepIn;
    const n = Math.floor(inCredit);
    inCredit -= n;
    if (strategy === 'block') {
      target += n;
      wake?.();
      wake = undefined;
    } else {
      for (let i = 0; i < n; i++) {
        const bornAt = now - o.stepMs + ((i + 1) * o.stepMs) / n;
        produced++;
        if (bucket !== undefined) {
          const a = bucket.admit();
          if (a instanceof Promise || !a.ok) {
            rejected++;
            continue;
          }
          a.release();
        }
        const r = channel.tryPut({ bornAt });
        if (r !== 'accepted' && r !== 'dropped') rejected++;
      }
    }
    if (strategy === 'block') await flushMicrotasks();
    const size = channel.size;
    if (size > peak) peak = size;
    // Consumer
    outCredit += perStepOut;
    const m = Math.floor(outCredit);
    outCredit -= m;
    for (let i = 0; i < m; i++) {
      const t = channel.tryTake();
      if (!t.ok) break;
      delays[delivered++] = now - t.value.bornAt;
    }
    if (strategy === 'block') await flushMicrotasks();
    if (o.onProgress !== undefined && (step * o.stepMs) % 1000 === 0) {
      o.onProgress({ strategy, simulatedSec: (step * o.stepMs) / 1000, buffered: channel.size, delivered });
    }
  }
  const offered = Math.round(o.producerPerSec * o.durationSec);
  const bufferedAtEnd = channel.size;
  stopped = true;
  wake?.();
  const undelivered = channel.closeNow();
  await producerDone;
  const sorted = delays.subarray(0, delivered).sort();
  return {
    strategy,
    offered,
    peakBuffer: peak,
    peakMemoryBytes: peak * o.eventBytes,
    delivered,
    lost,
    rejected,
    bufferedAtEnd: Math.max(bufferedAtEnd, undelivered.length),
    heldAtSource: offered - produced,
    delayP50Ms: quantile(sorted, 0.5),
    delayP99Ms: quantile(sorted, 0.99),
    delayMaxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
  };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
