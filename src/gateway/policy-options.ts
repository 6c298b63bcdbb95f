/**
 * A config policy as the HTTP admission layer's options (sluice/http does the admitting; the
 * gateway only translates): rate limits per tenant, a breaker, a fixed or adaptive
 * concurrency limit with its queue, and event-loop shedding.
 */
import type { IncomingMessage } from 'node:http';
import { CircuitBreaker } from '../breaker/circuit-breaker.js';
import { anyOf } from '../breaker/any-of.js';
import { consecutiveFailures } from '../breaker/consecutive.js';
import { timeWindow } from '../breaker/time-window.js';
import type { TripRule } from '../breaker/trip-rule.js';
import type { Gate } from '../core/types.js';
import type { Clock } from '../core/clock.js';
import type { SlotReclaimer } from '../concurrency/slot-reclaimer.js';
import type { ConcurrencyOption, HttpAdmissionOptions, RateLimitOption } from '../http/options.js';
import type { LimitAlgorithm } from '../limit/algorithm.js';
import { AimdLimit } from '../limit/aimd.js';
import { Gradient2Limit } from '../limit/gradient2.js';
import { VegasLimit } from '../limit/vegas.js';
import { WindowedLimit } from '../limit/windowed.js';
import { eventLoopDelaySignal } from '../pressure/event-loop-delay-signal.js';
import { PressureMonitor } from '../pressure/pressure-monitor.js';
import { capacityOf, ratePolicy as validRatePolicy } from '../rate/policy.js';
import type { RatePolicyInput } from '../rate/policy.js';
import type { RateStore } from '../rate/store.js';
import type { AlgorithmName, BreakerConfig, ConcurrencyConfig, PolicyConfig, RateLimitConfig, RateOverride } from './config-types.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import { meteredOverrideKey } from './override-keys.js';
import { limiterIdentity } from './rate-stores.js';
import { durationMs, rateOf } from './units.js';

export interface PolicyParts {
  /** sluice/http builds the rate limiters and the concurrency gate from these; `HttpAdmission.gates` lists them all. */
  readonly options: HttpAdmissionOptions<IncomingMessage>;
  readonly breaker: CircuitBreaker | undefined;
  readonly monitor: PressureMonitor | undefined;
}

export interface SharedSettings {
  readonly trustProxy: readonly string[] | undefined;
  readonly proxyHeader: 'x-forwarded-for' | 'forwarded' | undefined;
  readonly clock: Clock | undefined;
  /**
   * Where each rate limiter's buckets live, by limiter identity (rate-stores.ts) and name (whether
   * it is a quota, its maxKeys); undefined: a new store in this process's memory.
   */
  readonly rateStore?: ((identity: string, limiter: string, quota: boolean, maxKeys?: number) => RateStore | undefined) | undefined;
  /** Asked by each concurrency gate for room when its limit is full: the gateway's slow readers (slow-readers.ts). */
  readonly reclaimer?: SlotReclaimer | undefined;
}

/** The full form of a concurrency setting. */
export function concurrencyForm(c: PolicyConfig['concurrency']): ConcurrencyConfig | undefined {
  if (c === undefined) return undefined;
  if (typeof c === 'number' || c === 'adaptive') return { limit: c };
  return c;
}

/** In a row (`failures`), over a window (`failureRatio`), or either when both are set. */
function breakerRule(b: BreakerConfig): TripRule<unknown> {
  const inARow = (): TripRule<unknown> => consecutiveFailures({ threshold: b.failures ?? GATEWAY_DEFAULTS.breaker.failures }) as TripRule<unknown>;
  if (b.failureRatio === undefined) return inARow();
  const ratio = timeWindow({
    failureRatio: b.failureRatio,
    windowMs: b.window === undefined ? GATEWAY_DEFAULTS.breaker.windowMs : durationMs(b.window),
    minimumCalls: b.minimumCalls ?? GATEWAY_DEFAULTS.breaker.minimumCalls,
  }) as TripRule<unknown>;
  return b.failures === undefined ? ratio : (anyOf(inARow(), ratio) as TripRule<unknown>);
}

export function policyParts(p: PolicyConfig, name: string, shared: SharedSettings): PolicyParts {
  const gates: Gate[] = [];
  let breaker: CircuitBreaker | undefined;
  if (p.breaker !== undefined) {
    breaker = new CircuitBreaker({
      name: `${name}-breaker`,
      ...(shared.clock !== undefined ? { clock: shared.clock } : {}),
      rule: breakerRule(p.breaker),
      openMs: p.breaker.openFor === undefined ? GATEWAY_DEFAULTS.breaker.openForMs : durationMs(p.breaker.openFor),
    });
    gates.push(breaker);
  }
  let monitor: PressureMonitor | undefined;
  if (p.shed !== undefined) {
    const d = GATEWAY_DEFAULTS.shed;
    monitor = new PressureMonitor({
      name: `${name}-pressure`,
      signals: [
        eventLoopDelaySignal({
          slowAt: p.shed.slowAt === undefined ? d.slowAtMs : durationMs(p.shed.slowAt),
          rejectAt: p.shed.rejectAt === undefined ? d.rejectAtMs : durationMs(p.shed.rejectAt),
        }),
      ],
      intervalMs: p.shed.interval === undefined ? d.intervalMs : durationMs(p.shed.interval),
    });
  }
  const c = concurrencyForm(p.concurrency);
  const rateLimits = (p.rateLimits ?? []).map((r) => {
    const o = rateLimitOption(r, (p.rateLimits ?? []).length === 1);
    // Shared: the limiter's buckets live in the shared home — the primary's ledger for its workers,
    // or Redis with `store:` (worker-share.ts). The primary's table for it keeps its maxKeys.
    const limiter = `${name}-${o.name}`;
    const store = shared.rateStore?.(limiterIdentity(limiter, r), limiter, o.quota === true, o.maxKeys);
    if (store === undefined) return o;
    const { maxKeys: _maxKeys, ...rest } = o;
    return { ...rest, store } as RateLimitOption & { readonly name: string };
  });
  const options: HttpAdmissionOptions<IncomingMessage> = {
    name,
    ...(shared.clock !== undefined ? { clock: shared.clock } : {}),
    ...(rateLimits.length > 0 ? { rateLimits } : {}),
    ...(c !== undefined ? { concurrency: concurrencyOption(c, shared.reclaimer) } : {}),
    ...(monitor !== undefined ? { shed: { pressure: monitor } } : {}),
    ...(gates.length > 0 ? { gates } : {}),
    ...(p.tenant !== undefined ? { tenant: p.tenant } : {}),
    ...(shared.trustProxy !== undefined ? { trustProxy: shared.trustProxy } : {}),
    ...(shared.proxyHeader !== undefined ? { proxyHeader: shared.proxyHeader } : {}),
    ...(p.criticalityHeader !== undefined ? { criticality: { header: p.criticalityHeader } } : {}),
    ...(p.maxWait !== undefined ? { maxWaitMs: durationMs(p.maxWait) } : {}),
    ...(p.headers !== undefined ? { headers: p.headers } : {}),
  };
  return { options, breaker, monitor };
}

function bucketAlgorithm(a: RateLimitConfig['algorithm']): 'gcra' | 'token-bucket' {
  return a === 'token-bucket' ? 'token-bucket' : 'gcra';
}

function ratePolicy(r: RateOverride | RateLimitConfig, algorithm: RateLimitConfig['algorithm']): RatePolicyInput {
  if (r.limit !== undefined && r.window !== undefined) return { algorithm: 'sliding-window', limit: r.limit, windowMs: durationMs(r.window) };
  const { rate, perMs } = rateOf(r.rate ?? 1);
  return { algorithm: bucketAlgorithm(algorithm), rate, perMs, ...(r.burst !== undefined ? { burst: r.burst } : {}) };
}

/** The most units one request may cost under each rate limit of a policy (and each tenant override): a larger cost is refused for ever. */
export function rateCapacities(p: PolicyConfig): { readonly what: string; readonly capacity: number }[] {
  const out: { what: string; capacity: number }[] = [];
  (p.rateLimits ?? []).forEach((r, i) => {
    const name = JSON.stringify(r.name ?? ((p.rateLimits ?? []).length === 1 ? 'default' : `rateLimits[${i}]`));
    const unit = (x: RateOverride | RateLimitConfig): string => (x.limit !== undefined ? 'limit' : 'burst');
    out.push({ what: `the ${unit(r)} of rate limit ${name}`, capacity: capacityOf(validRatePolicy(ratePolicy(r, r.algorithm))) });
    for (const [key, o] of Object.entries(r.overrides ?? {})) {
      out.push({ what: `the ${unit(o)} of rate limit ${name} for ${key}`, capacity: capacityOf(validRatePolicy(ratePolicy(o, r.algorithm))) });
    }
  });
  return out;
}

/** Overrides report under the limit's own name (a tenant on a bigger plan still sees its policy name in RateLimit). */
function rateLimitOption(r: RateLimitConfig, only: boolean): RateLimitOption & { readonly name: string } {
  const name = r.name ?? (only ? 'default' : '');
  const policy = ratePolicy(r, r.algorithm);
  const overrides = r.overrides === undefined ? undefined : Object.fromEntries(Object.entries(r.overrides).map(([k, o]) => [meteredOverrideKey(k) ?? k, { ...ratePolicy(o, r.algorithm), name }]));
  return {
    ...policy,
    name,
    ...(r.quota !== undefined ? { quota: r.quota } : {}),
    maxKeys: r.maxKeys ?? GATEWAY_DEFAULTS.rateLimit.maxKeys,
    ...(overrides !== undefined ? { overrides } : {}),
  } as RateLimitOption & { readonly name: string };
}

export function limitAlgorithm(name: AlgorithmName, c: ConcurrencyConfig): LimitAlgorithm {
  const bounds = {
    ...(c.initialLimit !== undefined ? { initialLimit: c.initialLimit } : {}),
    ...(c.minLimit !== undefined ? { minLimit: c.minLimit } : {}),
    ...(c.maxLimit !== undefined ? { maxLimit: c.maxLimit } : {}),
  };
  // Windowed, as `npm run sim:adaptive` measured them: the limit moves once per window of samples.
  switch (name) {
    case 'aimd':
      return new WindowedLimit(new AimdLimit(bounds));
    case 'vegas':
      return new WindowedLimit(new VegasLimit(bounds));
    case 'gradient2':
      return new WindowedLimit(new Gradient2Limit(bounds));
  }
}

function concurrencyOption(c: ConcurrencyConfig, reclaimer: SlotReclaimer | undefined): ConcurrencyOption {
  const queue = c.queue ?? 0;
  const wait = queue > 0 ? { maxWaitMs: c.queueTimeout === undefined ? GATEWAY_DEFAULTS.concurrency.queueTimeoutMs : durationMs(c.queueTimeout) } : {};
  const common = { maxQueue: queue, ...wait, ...(c.discipline !== undefined ? { discipline: c.discipline } : {}), ...(reclaimer !== undefined ? { reclaimer } : {}) };
  if (c.limit === 'adaptive') return { ...common, algorithm: limitAlgorithm(c.algorithm ?? GATEWAY_DEFAULTS.concurrency.algorithm, c) };
  return { ...common, limit: c.limit };
}

/**
 * Claims the names of one policy's gates (checked on the throwaway admission of
 * validate-config.ts): two policies' gates of the same name and kind would be one series on
 * /metrics (its labels are the gate's name and kind; sluice/prometheus refuses the pair).
 * `claimed` maps a gate's kind and name to the policy that has it. Returns the issue, or undefined.
 */
export function claimGateNames(claimed: Map<string, string>, gates: readonly Gate[], policy: string): { expected: string; found: string } | undefined {
  const keys = gates.map((g) => {
    const kind = g.stats().kind;
    return { name: g.name, kind, key: `${kind}\u0000${g.name}` };
  });
  for (const { name, kind, key } of keys) {
    const owner = claimed.get(key);
    if (owner !== undefined) return { expected: "gates named apart from other policies' (/metrics labels a gate by its name and kind): rename a rate limit or the policy", found: `a ${kind} gate named ${JSON.stringify(name)}, as policy ${owner} has` };
  }
  for (const { key } of keys) claimed.set(key, policy);
  return undefined;
}
