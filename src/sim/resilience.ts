/**
 * Breaker and retry, proven in virtual time: a dependency that fails for 30 simulated
 * seconds and then recovers, clients at a steady open-loop rate, once per client stack
 * (see `resilience-stacks.ts`). Nothing here is asserted; every figure is counted as the
 * simulation runs through sluice's real RetryPolicy, RetryBudget, CircuitBreaker and
 * AdaptiveThrottle.
 *
 * Figures:
 * - attempts while down: attempts that reached the dependency during the outage;
 * - retry amplification: attempts / logical requests (overall, and during the outage);
 * - time to detect: outage start → the first local refusal (breaker opened, retry budget
 *   refused, throttle refused); none for a stack that never refuses;
 * - time to recover: dependency recovery → the start of the first 500 ms bucket from which
 *   every bucket's newly issued requests succeed at >= 95%.
 */
import { VirtualClock } from '../core/index.js';
import { seededRandom } from './adaptive-random.js';
import { ResilienceMeter } from './resilience-metrics.js';
import type { SecondSample } from './resilience-metrics.js';
import { buildStack, RESILIENCE_SCENARIOS } from './resilience-stacks.js';
import type { Dependency, ResilienceScenario } from './resilience-stacks.js';

export { RESILIENCE_SCENARIOS };
export type { ResilienceScenario };

export interface ResilienceOptions {
  /** Logical requests per second, evenly spaced. @default 100 */
  readonly ratePerSec?: number;
  /** Simulated seconds. @default 60 */
  readonly durationSec?: number;
  /** When the dependency starts failing, s. @default 10 */
  readonly outageStartSec?: number;
  /** How long it fails, s. @default 30 */
  readonly outageSec?: number;
  /** Share of attempts that fail during the outage (1: all; below 1: a brownout). @default 1 */
  readonly failureRate?: number;
  /** The dependency's latency, up or down, ms. @default 20 */
  readonly latencyMs?: number;
  /** Deadline of one logical request, ms (stacks b–d). @default 2_000 */
  readonly deadlineMs?: number;
  /** Seed of the pseudo-random streams (jitter, throttle, brownout). @default 1 */
  readonly seed?: number;
}

export const RESILIENCE_DEFAULTS = {
  ratePerSec: 100,
  durationSec: 60,
  outageStartSec: 10,
  outageSec: 30,
  failureRate: 1,
  latencyMs: 20,
  deadlineMs: 2_000,
  seed: 1,
} as const;

export interface ResilienceResult {
  readonly scenario: ResilienceScenario;
  readonly label: string;
  readonly about: string;
  /** Logical requests issued. */
  readonly logical: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Attempts that reached the dependency. */
  readonly attempts: number;
  readonly attemptsWhileDown: number;
  readonly logicalWhileDown: number;
  /** attempts / logical. */
  readonly amplification: number;
  /** attemptsWhileDown / logicalWhileDown. */
  readonly amplificationWhileDown: number;
  /** Outage start → first local refusal, ms; undefined: never refused. */
  readonly detectMs: number | undefined;
  /** Recovery → success back at >= 95%, ms; undefined: not within the run. */
  readonly recoverMs: number | undefined;
  readonly timeline: readonly SecondSample[];
}

/** The dependency's error while it is down. */
export class DependencyDownError extends Error {
  override get name(): string {
    return 'DependencyDownError';
  }
}

export async function simulateResilience(scenario: ResilienceScenario, options: ResilienceOptions = {}): Promise<ResilienceResult> {
  const o = { ...RESILIENCE_DEFAULTS, ...options };
  const clock = new VirtualClock();
  const durationMs = o.durationSec * 1000;
  const outageStart = o.outageStartSec * 1000;
  const outageEnd = outageStart + o.outageSec * 1000;
  const meter = new ResilienceMeter(durationMs, 500, outageStart, outageEnd);
  // Separate streams: the dependency's brownout draws do not shift with the client's jitter.
  const depRandom = seededRandom(o.seed);
  const clientRandom = seededRandom(o.seed ^ 0x9e3779b9);
  const stack = buildStack(scenario, clock, clientRandom, meter, o.deadlineMs);

  const dependency: Dependency = (signal) =>
    new Promise<void>((resolve, reject) => {
      const at = clock.now();
      meter.attempt(at);
      const fails = meter.isDown(at) && (o.failureRate >= 1 || depRandom() < o.failureRate);
      const onAbort = (): void => {
        clock.clearTimer(timer);
        reject(signal.reason as Error);
      };
      const timer = clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        if (fails) reject(new DependencyDownError('503 Service Unavailable'));
        else resolve();
      }, o.latencyMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });

  const total = Math.floor(o.ratePerSec * o.durationSec);
  const intervalMs = 1000 / o.ratePerSec;
  let issued = 0;
  const issue = (): void => {
    const at = clock.now();
    meter.issue(at);
    stack.call(dependency).then(
      () => meter.settle(at, true),
      () => meter.settle(at, false),
    );
    if (++issued < total) clock.setTimer(issue, issued * intervalMs - clock.now());
  };
  clock.setTimer(issue, 0);
  await clock.runAll();

  return {
    scenario,
    label: stack.label,
    about: stack.about,
    logical: meter.issued,
    succeeded: meter.succeeded,
    failed: meter.failed,
    attempts: meter.attempts,
    attemptsWhileDown: meter.attemptsWhileDown,
    logicalWhileDown: meter.issuedWhileDown,
    amplification: meter.attempts / meter.issued,
    amplificationWhileDown: meter.issuedWhileDown === 0 ? 0 : meter.attemptsWhileDown / meter.issuedWhileDown,
    detectMs: meter.firstRefusalAt === undefined ? undefined : meter.firstRefusalAt - outageStart,
    recoverMs: meter.recoveredAfter(0.95),
    timeline: meter.timeline(),
  };
}
