/**
 * The adaptive simulation's scenarios and the limiters it compares. Loads are multiples of
 * the initial server's throughput (capacity / baseLatencyMs), so "4x" stays the same arrival
 * rate when the server changes under it.
 */
import type { ConcurrencyOptions } from '../concurrency/index.js';
import { AimdLimit, Gradient2Limit, VegasLimit, WindowedLimit } from '../limit/index.js';
import { seededRandom } from './adaptive-random.js';

export interface Phase {
  readonly label: string;
  readonly durationMs: number;
  /** Offered load, a multiple of the initial server's throughput. */
  readonly load: number;
  /** Requests the server runs at full speed (the knee), relative to the initial capacity. */
  readonly capacityFactor: number;
  /** Service time of one request, relative to the initial base latency. */
  readonly latencyFactor: number;
}

export interface Scenario {
  readonly name: string;
  readonly phases: readonly Phase[];
}

export type LimiterName = 'none' | 'fixed' | 'aimd' | 'vegas' | 'gradient2';

export const LIMITERS: readonly LimiterName[] = ['none', 'fixed', 'aimd', 'vegas', 'gradient2'];
export const ADAPTIVE: readonly LimiterName[] = ['aimd', 'vegas', 'gradient2'];

export const STEADY_LOADS: readonly number[] = [0.5, 1, 2, 4, 10];

/** Scenarios; `steadyMs` is the length of every phase's measured tail. */
export function scenarios(phaseMs: number): Scenario[] {
  const base = { capacityFactor: 1, latencyFactor: 1 };
  return [
    ...STEADY_LOADS.map((load) => ({ name: `steady ${load}x`, phases: [{ label: `${load}x`, durationMs: phaseMs, load, ...base }] })),
    {
      name: 'load step',
      phases: [
        { label: '0.5x', durationMs: phaseMs, load: 0.5, ...base },
        { label: '→ 4x', durationMs: phaseMs, load: 4, ...base },
      ],
    },
    {
      name: 'capacity halves',
      phases: [
        { label: 'C, 4x', durationMs: phaseMs, load: 4, ...base },
        { label: '→ C/2', durationMs: phaseMs, load: 4, capacityFactor: 0.5, latencyFactor: 1 },
        { label: '→ C', durationMs: phaseMs, load: 4, ...base },
      ],
    },
    {
      name: 'server 2x slower',
      phases: [
        { label: 'L, 4x', durationMs: phaseMs, load: 4, ...base },
        { label: '→ 2L', durationMs: phaseMs, load: 4, capacityFactor: 1, latencyFactor: 2 },
      ],
    },
  ];
}

export interface LimiterSetup {
  /** Knee of the initial server: the fixed limit. */
  readonly capacity: number;
  readonly baseLatencyMs: number;
  /** AIMD's rttTolerance: a window RTT above this multiple of its no-load RTT is a drop. */
  readonly aimdTolerance: number;
  readonly aimdBackoff: number;
  readonly gradient2Tolerance: number;
  readonly seed: number;
}

/**
 * Gate options per limiter. Adaptive algorithms sit behind the windowed sampler, all with their
 * defaults except what the caller overrides.
 */
export function limiterOptions(name: LimiterName, s: LimiterSetup): ConcurrencyOptions {
  switch (name) {
    case 'none':
      return { limit: Number.MAX_SAFE_INTEGER };
    case 'fixed':
      return { limit: s.capacity };
    case 'aimd':
      return { algorithm: new WindowedLimit(new AimdLimit({ rttTolerance: s.aimdTolerance, backoffRatio: s.aimdBackoff })) };
    case 'vegas':
      return { algorithm: new WindowedLimit(new VegasLimit({ random: seededRandom(s.seed ^ 0x5eed) })) };
    case 'gradient2':
      return { algorithm: new WindowedLimit(new Gradient2Limit({ rttTolerance: s.gradient2Tolerance })) };
  }
}
