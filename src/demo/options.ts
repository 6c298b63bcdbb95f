/**
 * Options of `sluice demo`: every default in {@link DEMO_DEFAULTS}, validated once by
 * {@link resolveDemoOptions} with one message template (option, expected, received).
 */
import { InvalidOptionError } from '../core/errors.js';
import { optInt, optNumber, optOneOf } from '../core/options.js';
import type { GatewayMode } from './gateway-config.js';
import { GATEWAY_MODES } from './gateway-config.js';

export type DemoRun = 'direct' | 'gateway';
export const DEMO_RUNS: readonly DemoRun[] = ['direct', 'gateway'];

export interface DemoOptions {
  /** Upstream requests in service at once. Integer >= 1. @default 50 */
  readonly upstreamConcurrency?: number;
  /** Upstream service time, ms. >= 1. @default 20 */
  readonly serviceMs?: number;
  /** Load phases as multiples of the upstream's capacity, in order. Each > 0. @default [0.5, 1, 2, 4] */
  readonly phases?: readonly number[];
  /** Length of each phase, ms. >= 200. @default 6000 */
  readonly phaseMs?: number;
  /** A request unanswered after this long is abandoned (a timeout), ms. >= 10. @default 2000 */
  readonly timeoutMs?: number;
  /** Which runs, in order. @default ['direct', 'gateway'] */
  readonly runs?: readonly DemoRun[];
  /** The gateway's concurrency limit: fixed, or adaptive (gradient2). @default 'fixed' */
  readonly gatewayMode?: GatewayMode;
  /** The gateway's limit (the initial one when adaptive). Integer >= 1. @default the upstream's concurrency */
  readonly gatewayConcurrency?: number;
  /** Longest a request waits in the gateway's queue, ms. > 0. @default 100 */
  readonly queueTimeoutMs?: number;
  /** Connections the load generator may open. Integer >= 1. @default 4096 */
  readonly maxSockets?: number;
  /**
   * Unmeasured load at the lowest phase's rate before each run, ms: connections open and code
   * is compiled before the first phase. On a busy 2-core host the gateway refused requests at
   * 0.5x for its first ~2 s; 500 ms left some of them in the first phase, 3 s none
   * (bench/demo-warmup.ts). In [0, 60000]. @default 3000
   */
  readonly warmupMs?: number;
}

export const DEMO_DEFAULTS = {
  upstreamConcurrency: 50,
  serviceMs: 20,
  phases: [0.5, 1, 2, 4],
  phaseMs: 6000,
  timeoutMs: 2000,
  runs: DEMO_RUNS,
  gatewayMode: 'fixed',
  queueTimeoutMs: 100,
  maxSockets: 4096,
  warmupMs: 3000,
} as const;

export type ResolvedDemoOptions = { readonly [K in keyof DemoOptions]-?: Exclude<DemoOptions[K], undefined> } & {
  /** Requests per second the upstream completes at most: concurrency × 1000 / serviceMs. */
  readonly capacity: number;
};

export function resolveDemoOptions(o: DemoOptions = {}): ResolvedDemoOptions {
  const upstreamConcurrency = optInt('upstreamConcurrency', o.upstreamConcurrency ?? DEMO_DEFAULTS.upstreamConcurrency, 1, 100_000);
  const serviceMs = optNumber('serviceMs', o.serviceMs ?? DEMO_DEFAULTS.serviceMs, 1, 60_000);
  const phases = o.phases ?? DEMO_DEFAULTS.phases;
  if (phases.length === 0) throw new InvalidOptionError('phases', 'at least one multiple of capacity', phases);
  phases.forEach((p, i) => optNumber(`phases[${i}]`, p, 0.01, 100));
  const runs = o.runs ?? DEMO_DEFAULTS.runs;
  if (runs.length === 0) throw new InvalidOptionError('runs', `one or more of ${DEMO_RUNS.join(', ')}`, runs);
  runs.forEach((r, i) => optOneOf(`runs[${i}]`, r, DEMO_RUNS));
  const queueTimeoutMs = optNumber('queueTimeoutMs', o.queueTimeoutMs ?? DEMO_DEFAULTS.queueTimeoutMs, 1, 60_000);
  const timeoutMs = optNumber('timeoutMs', o.timeoutMs ?? DEMO_DEFAULTS.timeoutMs, 10, 600_000);
  if (timeoutMs <= serviceMs + queueTimeoutMs) {
    throw new InvalidOptionError('timeoutMs', `more than serviceMs + queueTimeoutMs (${serviceMs + queueTimeoutMs} ms), or every queued request would time out`, timeoutMs);
  }
  const capacity = (upstreamConcurrency * 1000) / serviceMs;
  return {
    upstreamConcurrency,
    serviceMs,
    phases,
    phaseMs: optNumber('phaseMs', o.phaseMs ?? DEMO_DEFAULTS.phaseMs, 200, 3_600_000),
    timeoutMs,
    runs,
    gatewayMode: optOneOf('gatewayMode', o.gatewayMode ?? DEMO_DEFAULTS.gatewayMode, GATEWAY_MODES),
    gatewayConcurrency: optInt('gatewayConcurrency', o.gatewayConcurrency ?? upstreamConcurrency, 1, 100_000),
    queueTimeoutMs,
    maxSockets: optInt('maxSockets', o.maxSockets ?? DEMO_DEFAULTS.maxSockets, 1, 1_000_000),
    warmupMs: optNumber('warmupMs', o.warmupMs ?? DEMO_DEFAULTS.warmupMs, 0, 60_000),
    capacity,
  };
}
