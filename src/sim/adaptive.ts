/**
 * Adaptive concurrency limits, measured in virtual time: an open-loop client (Poisson or
 * constant arrivals) against {@link SimServer}, through a ConcurrencyGate with each limiter.
 * Nothing here is asserted; every figure is counted as the simulation runs.
 *
 * The gate sits in the server, in front of the handler (no wait queue: a refused request is
 * answered at once). A permit is released when the server finishes the request: 'dropped'
 * when that is after the client's timeout (the client gave up; the work was wasted), else
 * 'success'. Goodput counts only answers the client was still waiting for.
 *
 * Event-driven: the next event is the earliest of an arrival, a completion, a trace tick and a
 * phase change, so no request is rounded to a time step and nothing awaits.
 */
import { VirtualClock } from '../core/index.js';
import type { Permit } from '../core/index.js';
import { ConcurrencyGate } from '../concurrency/index.js';
import type { ConcurrencyOptions } from '../concurrency/index.js';
import { AIMD_DEFAULTS, GRADIENT2_DEFAULTS } from '../limit/index.js';
import { convergeMs, limitStats, quantile, SteadyWindow } from './adaptive-metrics.js';
import type { Trace } from './adaptive-metrics.js';
import { nextGap, seededRandom } from './adaptive-random.js';
import type { Arrivals } from './adaptive-random.js';
import { limiterOptions } from './adaptive-scenarios.js';
import type { LimiterName, Scenario } from './adaptive-scenarios.js';
import { SimServer } from './adaptive-server.js';

export interface AdaptiveSimOptions {
  /** Requests the server runs at full speed: the knee. @default 100 */
  readonly capacity?: number;
  /** Service time of one request below the knee, ms. @default 20 */
  readonly baseLatencyMs?: number;
  /** The client gives up after this long, ms. @default 1000 */
  readonly clientTimeoutMs?: number;
  /** @default 'poisson' */
  readonly arrivals?: Arrivals;
  /** Length of each phase, ms. @default 15000 */
  readonly phaseMs?: number;
  /** Tail of each phase that counts as steady state, ms. @default 5000 */
  readonly steadyMs?: number;
  /** Period at which the enforced limit is traced, ms. @default 10 */
  readonly traceMs?: number;
  /** AIMD's rttTolerance (a window RTT above this multiple of its no-load RTT is a drop). @default AIMD_DEFAULTS.rttTolerance */
  readonly aimdTolerance?: number;
  /** AIMD's backoffRatio. @default AIMD_DEFAULTS.backoffRatio */
  readonly aimdBackoff?: number;
  /** Gradient2's rttTolerance. @default GRADIENT2_DEFAULTS.rttTolerance (1.5) */
  readonly gradient2Tolerance?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Gate options to use instead of the named limiter's (the name is then only a label). */
  readonly gate?: ConcurrencyOptions;
}

export const ADAPTIVE_SIM_DEFAULTS = {
  capacity: 100,
  baseLatencyMs: 20,
  clientTimeoutMs: 1000,
  arrivals: 'poisson',
  phaseMs: 15_000,
  steadyMs: 5_000,
  traceMs: 10,
  aimdTolerance: AIMD_DEFAULTS.rttTolerance,
  aimdBackoff: AIMD_DEFAULTS.backoffRatio,
  gradient2Tolerance: GRADIENT2_DEFAULTS.rttTolerance,
  seed: 1,
} as const;

export type ResolvedSimOptions = Required<Omit<AdaptiveSimOptions, 'gate'>>;

export function resolveSimOptions(options: AdaptiveSimOptions): ResolvedSimOptions {
  const d = ADAPTIVE_SIM_DEFAULTS;
  return {
    capacity: options.capacity ?? d.capacity,
    baseLatencyMs: options.baseLatencyMs ?? d.baseLatencyMs,
    clientTimeoutMs: options.clientTimeoutMs ?? d.clientTimeoutMs,
    arrivals: options.arrivals ?? d.arrivals,
    phaseMs: options.phaseMs ?? d.phaseMs,
    steadyMs: options.steadyMs ?? d.steadyMs,
    traceMs: options.traceMs ?? d.traceMs,
    aimdTolerance: options.aimdTolerance ?? d.aimdTolerance,
    aimdBackoff: options.aimdBackoff ?? d.aimdBackoff,
    gradient2Tolerance: options.gradient2Tolerance ?? d.gradient2Tolerance,
    seed: options.seed ?? d.seed,
  };
}

export interface PhaseResult {
  readonly scenario: string;
  readonly phase: string;
  readonly limiter: LimiterName;
  readonly load: number;
  /** The server's knee in this phase (concurrent requests at full speed). */
  readonly knee: number;
  /** The server's throughput in this phase, requests/s. */
  readonly capacityPerSec: number;
  /** From the phase start until the limit stays within ±10% of the knee, ms; null: not within the phase. */
  readonly convergeMs: number | null;
  /** Enforced limit over the steady window. */
  readonly limitMean: number;
  readonly limitMin: number;
  readonly limitMax: number;
  /** (max − min) / mean of the limit over the steady window. */
  readonly oscillation: number;
  /** Least-squares slope of the limit over the steady window, per second (a drift, not an oscillation). */
  readonly trendPerSec: number;
  /** Answers within the client's timeout per second over the steady window, / capacityPerSec. */
  readonly goodput: number;
  /** Refused by the gate / offered, steady window. */
  readonly rejected: number;
  /** Server latency of admitted requests finishing in the steady window, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The phase's base latency (unloaded p99 of this server model). */
  readonly baseLatencyMs: number;
}

interface Job {
  readonly permit: Permit;
  readonly startedAt: number;
}

export function simulateAdaptive(scenario: Scenario, limiter: LimiterName, options: AdaptiveSimOptions = {}): PhaseResult[] {
  const o = resolveSimOptions(options);
  const random = seededRandom(o.seed);
  const clock = new VirtualClock();
  const gate = new ConcurrencyGate({ name: limiter, clock, ...(options.gate ?? limiterOptions(limiter, o)) });
  const phases = scenario.phases;
  const first = phases[0]!;
  const server = new SimServer<Job>(o.capacity * first.capacityFactor, o.baseLatencyMs * first.latencyFactor);
  const basePerMs = o.capacity / o.baseLatencyMs;
  const trace: Trace = { t: [], limit: [] };
  const starts: number[] = [];
  let end = 0;
  const windows = phases.map((p) => {
    starts.push(end);
    end += p.durationMs;
    return new SteadyWindow(end - Math.min(o.steadyMs, p.durationMs), end);
  });

  let phase = 0;
  let perMs = first.load * basePerMs;
  let nextArrival = nextGap(o.arrivals, perMs, random);
  let nextTrace = 0;
  let nextPhase = phases.length > 1 ? starts[1]! : end;
  let win = windows[0]!;

  for (;;) {
    const done = server.nextDoneAt();
    const t = Math.min(done, nextArrival, nextTrace, nextPhase);
    if (t >= end) break;
    server.advanceTo(t);
    clock.advanceTo(t);
    if (t === done) {
      const job = server.takeDone();
      if (job === undefined) continue;
      const latency = t - job.startedAt;
      const good = latency <= o.clientTimeoutMs;
      job.permit.release(good ? 'success' : 'dropped');
      if (win.contains(t)) {
        win.completed++;
        if (good) win.good++;
        win.latencies.push(latency);
      }
    } else if (t === nextTrace) {
      trace.t.push(t);
      trace.limit.push(gate.limit);
      nextTrace += o.traceMs;
    } else if (t === nextPhase) {
      phase++;
      const p = phases[phase]!;
      win = windows[phase]!;
      server.capacity = o.capacity * p.capacityFactor;
      server.baseLatencyMs = o.baseLatencyMs * p.latencyFactor;
      perMs = p.load * basePerMs;
      // Poisson arrivals are memoryless: redraw the next one at the new rate.
      nextArrival = t + nextGap(o.arrivals, perMs, random);
      nextPhase = phase + 1 < phases.length ? starts[phase + 1]! : end;
    } else {
      nextArrival = t + nextGap(o.arrivals, perMs, random);
      const counted = win.contains(t);
      if (counted) win.offered++;
      const a = gate.admit();
      if (a instanceof Promise) throw new Error('sim-adaptive: the gate has no queue, admit must answer at once');
      if (a.ok) server.start({ permit: a, startedAt: t });
      else if (counted) win.rejected++;
    }
  }

  return phases.map((p, i) => {
    const w = windows[i]!;
    const knee = o.capacity * p.capacityFactor;
    const latency = o.baseLatencyMs * p.latencyFactor;
    const capacityPerSec = (knee / latency) * 1000;
    const ls = limitStats(trace, w.from, w.to);
    return {
      scenario: scenario.name,
      phase: p.label,
      limiter,
      load: p.load,
      knee,
      capacityPerSec,
      convergeMs: convergeMs(trace, starts[i]!, w.to, knee),
      limitMean: ls.mean,
      limitMin: ls.min,
      limitMax: ls.max,
      oscillation: (ls.max - ls.min) / ls.mean,
      trendPerSec: ls.slopePerSec,
      goodput: w.good / ((w.to - w.from) / 1000) / capacityPerSec,
      rejected: w.offered === 0 ? 0 : w.rejected / w.offered,
      p50Ms: quantile(w.latencies, 0.5),
      p99Ms: quantile(w.latencies, 0.99),
      baseLatencyMs: latency,
    };
  });
}
