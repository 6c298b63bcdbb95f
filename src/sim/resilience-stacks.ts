/**
 * The four client stacks the resilience simulation compares, built from sluice's real
 * primitives on the simulation's clock. Each turns one logical request into attempts
 * against the dependency.
 */
import { CircuitBreaker, countWindow } from '../breaker/index.js';
import { compose, run } from '../compose/index.js';
import type { Clock } from '../core/index.js';
import { AdaptiveThrottle, RetryBudget, RetryPolicy } from '../retry/index.js';
import type { GiveUpInfo } from '../retry/index.js';
import type { ResilienceMeter } from './resilience-metrics.js';

export type ResilienceScenario = 'naive' | 'backoff-budget' | 'breaker' | 'breaker-throttle' | 'throttle';

/** (a)–(d) as the issue asks, and (e): the throttle alone, to show what it does without a breaker. */
export const RESILIENCE_SCENARIOS: readonly ResilienceScenario[] = ['naive', 'backoff-budget', 'breaker', 'breaker-throttle', 'throttle'];

/** The dependency as the client sees it: one attempt, honouring the attempt's signal. */
export type Dependency = (signal: AbortSignal) => Promise<void>;

export interface ClientStack {
  readonly label: string;
  /** What the stack is made of, in one line. */
  readonly about: string;
  call(dependency: Dependency): Promise<void>;
}

/** Shared by (b), (c), (d): 3 attempts, full jitter from 100 ms capped at 1 s, a deadline, a budget. */
function safeRetry(clock: Clock, random: () => number, meter: ResilienceMeter, deadlineMs: number): RetryPolicy {
  const budget = new RetryBudget({ clock }); // 20% of requests + 10 per 10 s window
  return new RetryPolicy({
    clock,
    random,
    maxAttempts: 3,
    jitter: 'full',
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    deadlineMs,
    budget,
    onGiveUp: (g: GiveUpInfo) => {
      if (g.reason === 'budget') meter.refusal(clock.now());
    },
  });
}

function breaker(clock: Clock, meter: ResilienceMeter): CircuitBreaker {
  const b = new CircuitBreaker({
    name: 'dependency',
    clock,
    // Half of the last 50 calls failing (once 20 are in) opens it.
    rule: countWindow({ size: 50, minimumCalls: 20, failureRatio: 0.5 }),
    openMs: 1_000,
    openBackoff: 2,
    maxOpenMs: 4_000,
    probes: 3,
    probeSuccesses: 2,
  });
  b.onStateChange((c) => {
    if (c.to === 'open') meter.refusal(c.at);
  });
  return b;
}

export function buildStack(scenario: ResilienceScenario, clock: Clock, random: () => number, meter: ResilienceMeter, deadlineMs: number): ClientStack {
  switch (scenario) {
    case 'naive': {
      const policy = new RetryPolicy({ clock, maxAttempts: 3, baseDelayMs: 0, jitter: 'none', maxDelayMs: 0 });
      return {
        label: '(a) naive retry',
        about: 'retry at once, 3 attempts, no budget, no breaker',
        call: (dep) => policy.execute((signal) => dep(signal)),
      };
    }
    case 'backoff-budget': {
      const policy = safeRetry(clock, random, meter, deadlineMs);
      return {
        label: '(b) backoff + budget',
        about: `3 attempts, full jitter 100 ms..1 s, ${deadlineMs} ms deadline, retry budget 20% + 10 per 10 s`,
        call: (dep) => policy.execute((signal) => dep(signal)),
      };
    }
    case 'breaker': {
      const policy = safeRetry(clock, random, meter, deadlineMs);
      const b = breaker(clock, meter);
      return {
        label: '(c) breaker + (b)',
        about: 'count window 50 calls, opens at 50% failures (min 20 calls); open 1 s doubling to 4 s; 3 probes, 2 must succeed',
        call: (dep) => policy.execute((signal) => b.execute(() => dep(signal))),
      };
    }
    case 'breaker-throttle': {
      const policy = safeRetry(clock, random, meter, deadlineMs);
      const gate = compose(throttle(clock, random, meter), breaker(clock, meter));
      return {
        label: '(d) (c) + adaptive throttle',
        about: 'SRE-book client throttling in front of the breaker (K = 2, 2 min window)',
        call: (dep) => policy.execute((signal) => run(gate, () => dep(signal))),
      };
    }
    case 'throttle': {
      const policy = safeRetry(clock, random, meter, deadlineMs);
      const gate = throttle(clock, random, meter);
      return {
        label: '(e) (b) + adaptive throttle',
        about: 'the throttle without a breaker (K = 2, 2 min window)',
        call: (dep) => policy.execute((signal) => run(gate, () => dep(signal))),
      };
    }
  }
}

function throttle(clock: Clock, random: () => number, meter: ResilienceMeter): AdaptiveThrottle {
  const t = new AdaptiveThrottle({ name: 'client', clock, random });
  t.on((e) => {
    if (e.type === 'reject') meter.refusal(e.at);
  });
  return t;
}
