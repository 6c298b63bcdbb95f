/**
 * The gates one HTTP policy asks, built once from its options, in this order:
 *
 *   shedder -> rate limits (each per tenant) -> further gates (a breaker) -> concurrency
 *
 * Shedding comes first so that a request refused for the server's sake costs the tenant no
 * quota; the rate limits come before the concurrency limit so that a tenant over its rate
 * never holds (or waits for) a slot.
 */
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { InvalidOptionError } from '../core/errors.js';
import { optBoolean, optInt, optNumber, underOption } from '../core/options.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { Gate } from '../core/types.js';
import { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import { LoadShedder } from '../pressure/load-shedder.js';
import type { LoadShedderOptions } from '../pressure/load-shedder.js';
import { KeyedRateLimiter } from '../rate/keyed.js';
import type { PolicyOverrides } from '../rate/keyed.js';
import { ratePolicy } from '../rate/policy.js';
import type { RatePolicyInput } from '../rate/policy.js';
import type { ConcurrencyOption, HttpAdmissionOptions, RateLimitOption } from './options.js';
import { meteredIpKey } from './ip.js';
import { HTTP_DEFAULTS } from './options.js';

export interface PolicyGates {
  readonly clock: Clock;
  readonly shedder: LoadShedder | undefined;
  readonly rates: readonly Gate[];
  /** Rate gates whose refusals are reported as `quota`. */
  readonly quota: ReadonlySet<Gate>;
  readonly extra: readonly Gate[];
  readonly concurrency: ConcurrencyGate | undefined;
  /** Whether any gate may keep a request waiting (then each request carries an abort signal). */
  readonly mayWait: boolean;
  /** Every gate was built here (none given by the user): a wait's signal may be sluice's cheap WaitSignal rather than an AbortSignal. */
  readonly ownGates: boolean;
  /** Every gate, in the order asked. */
  readonly chain: readonly Gate[];
}

function isGate(x: unknown): x is Gate {
  return typeof x === 'object' && x !== null && typeof (x as Gate).admit === 'function';
}

/** A policy name must be writable as a Structured Field String: printable ASCII. */
function checkPolicyName(name: unknown, at: string): string {
  if (typeof name !== 'string' || name === '' || !/^[\x20-\x7e]+$/.test(name)) throw new InvalidOptionError(at, 'a non-empty string of printable ASCII', name);
  return name;
}

const RATE_LIMIT_KEYS = optionKeys<RateLimitOption>({
  algorithm: true,
  name: true,
  rate: true,
  perMs: true,
  burst: true,
  limit: true,
  windowMs: true,
  overrides: true,
  quota: true,
  store: true,
  maxKeys: true,
});
const CONCURRENCY_OPTION_KEYS = optionKeys<ConcurrencyOption>({ limit: true, algorithm: true, maxQueue: true, maxWaitMs: true, discipline: true, refuseEarly: true, reclaimer: true });

export function buildGates(o: HttpAdmissionOptions<never>, name: string): PolicyGates {
  // Before they are iterated below: `rateLimits: 5` was "number 5 is not iterable".
  const lists: readonly [string, unknown, string][] = [
    ['rateLimits', o.rateLimits, 'an array'],
    ['gates', o.gates, 'an array of gates'],
  ];
  for (const [option, value, expected] of lists) if (value !== undefined && !Array.isArray(value)) throw new InvalidOptionError(option, expected, value);
  const given: Gate[] = [];
  if (isGate(o.shed)) given.push(o.shed);
  for (const r of o.rateLimits ?? []) if (isGate(r)) given.push(r);
  for (const g of o.gates ?? []) given.push(g);
  if (isGate(o.concurrency)) given.push(o.concurrency);
  const clock = o.clock ?? given[0]?.clock ?? systemClock;
  for (const g of given) {
    if (g.clock !== clock) throw new InvalidOptionError('gates', `gates on one clock (${g.name} has another)`, g.name);
  }

  let shedder: LoadShedder | undefined;
  if (isGate(o.shed)) shedder = o.shed;
  else if (o.shed !== undefined) {
    const shed = o.shed as unknown;
    if (typeof shed !== 'object' || shed === null || Array.isArray(shed)) throw new InvalidOptionError('shed', 'a LoadShedder or its options', shed);
    // Its options are the caller's `shed.*`: a bad one is named so (shed.limit, not limit).
    shedder = underOption('shed.', () => new LoadShedder({ name: `${name}-shed`, ...(shed as LoadShedderOptions), clock }));
  }

  const rates: Gate[] = [];
  const quota = new Set<Gate>();
  const names = new Set<string>();
  const list = o.rateLimits ?? [];
  list.forEach((r: RateLimitOption | KeyedRateLimiter, i) => {
    const at = `rateLimits[${i}]`;
    let gate: Gate;
    if (isGate(r)) {
      gate = r;
      const policyName = r instanceof KeyedRateLimiter ? r.policy.name : (r as Gate).name;
      if (names.has(policyName)) throw new InvalidOptionError(`${at}.name`, 'a policy name not used by another rate limit', policyName);
      names.add(policyName);
    } else {
      if (typeof r !== 'object' || r === null) throw new InvalidOptionError(at, 'a rate policy or a KeyedRateLimiter', r);
      optKnownKeys('rate limit', r, RATE_LIMIT_KEYS, `${at}.`);
      const { overrides, quota: isQuota, store, maxKeys, ...policy } = r;
      const policyName = checkPolicyName(policy.name ?? (list.length === 1 ? 'default' : undefined), `${at}.name`);
      if (names.has(policyName)) throw new InvalidOptionError(`${at}.name`, 'a policy name not used by another rate limit', policyName);
      names.add(policyName);
      optBoolean(`${at}.quota`, isQuota, false);
      gate = new KeyedRateLimiter({
        name: `${name}-${policyName}`,
        clock,
        // Checked here, so a bad field is named where it was written (rateLimits[0].rate), not as the limiter's `policy.rate`.
        policy: ratePolicy({ ...policy, name: policyName } as RateLimitOption, at),
        ...(overrides !== undefined ? { overrides: meteredKeys(namedOverrides(overrides, policyName), `${at}.overrides`, o.ipv4Prefix ?? HTTP_DEFAULTS.ipv4Prefix, o.ipv6Prefix ?? HTTP_DEFAULTS.ipv6Prefix) } : {}),
        ...(store !== undefined ? { store } : {}),
        ...(maxKeys !== undefined ? { maxKeys } : {}),
        // Its own refusals say `quota`, so its stats and events count them as what they are.
        ...(isQuota === true ? { quota: true } : {}),
      });
      if (isQuota === true) quota.add(gate);
    }
    rates.push(gate);
  });

  const extra = [...(o.gates ?? [])];
  extra.forEach((g, i) => {
    if (!isGate(g)) throw new InvalidOptionError(`gates[${i}]`, 'a gate', g);
  });

  let concurrency: ConcurrencyGate | undefined;
  let queued = false;
  const c = o.concurrency;
  if (typeof c === 'number') {
    concurrency = new ConcurrencyGate({ name: `${name}-concurrency`, clock, limit: optInt('concurrency', c, 1) });
  } else if (isGate(c)) {
    concurrency = c;
    queued = true;
  } else if (c !== undefined) {
    if (typeof c !== 'object' || c === null) throw new InvalidOptionError('concurrency', 'a number, options or a ConcurrencyGate', c);
    optKnownKeys('concurrency', c, CONCURRENCY_OPTION_KEYS, 'concurrency.');
    const maxQueue = optInt('concurrency.maxQueue', c.maxQueue ?? HTTP_DEFAULTS.concurrency.maxQueue, 0);
    if (c.maxWaitMs !== undefined && maxQueue === 0) throw new InvalidOptionError('concurrency.maxWaitMs', 'absent when maxQueue is 0 (a wait needs a queue)', c.maxWaitMs);
    if (c.refuseEarly !== undefined && maxQueue === 0) throw new InvalidOptionError('concurrency.refuseEarly', 'absent when maxQueue is 0 (nothing waits)', c.refuseEarly);
    optBoolean('concurrency.refuseEarly', c.refuseEarly, false);
    if (c.limit !== undefined && c.algorithm !== undefined) throw new InvalidOptionError('concurrency.limit', 'absent when an algorithm sets the limit', c.limit);
    if (c.limit === undefined && c.algorithm === undefined) throw new InvalidOptionError('concurrency.limit', 'an integer >= 1 (or an algorithm)', c.limit);
    const queueWaitMs = maxQueue === 0 ? 0 : optNumber('concurrency.maxWaitMs', c.maxWaitMs ?? HTTP_DEFAULTS.concurrency.maxWaitMs, Number.MIN_VALUE);
    queued = maxQueue > 0;
    const common = {
      name: `${name}-concurrency`,
      clock,
      maxQueue,
      // A queue built here refuses early (ConcurrencyGate's `refuseEarly`) unless told not to.
      ...(maxQueue > 0 ? { maxWaitMs: queueWaitMs, refuseEarly: c.refuseEarly ?? true } : {}),
      ...(c.discipline !== undefined ? { discipline: c.discipline } : {}),
      ...(c.reclaimer !== undefined ? { reclaimer: c.reclaimer } : {}),
    };
    // The gate's own checks (algorithm, discipline) name the caller's `concurrency.*`.
    concurrency = underOption('concurrency.', () =>
      c.algorithm !== undefined ? new ConcurrencyGate({ ...common, algorithm: c.algorithm }) : new ConcurrencyGate({ ...common, limit: optInt('limit', c.limit, 1) }),
    );
  }
  const chain = [...(shedder ? [shedder] : []), ...rates, ...extra, ...(concurrency ? [concurrency] : [])];
  // Rate gates built here never wait (maxWaitMs 0); given gates and a queue might.
  const mayWait = queued || given.length > 0;
  return { clock, shedder, rates, quota, extra, concurrency, mayWait, ownGates: given.length === 0, chain };
}

/**
 * Overrides named by address (`ip:…`) keyed as requests are metered (tenant.ts, ip.ts): IPv4-mapped
 * IPv6 as IPv4, IPv6 as its prefix (`ip:2001:db8::1` → `ip:2001:db8:0:0:0:0:0:0/64`). Written as an
 * address is written, they matched no request, without a word (hostile-19). Other keys, and a
 * function's answers, are left as they are; two keys for one metered client are an error.
 */
function meteredKeys(o: PolicyOverrides, at: string, ipv4Prefix: number, ipv6Prefix: number): PolicyOverrides {
  if (typeof o === 'function' || typeof o !== 'object' || o === null) return o;
  const entries: [string, RatePolicyInput][] = o instanceof Map ? [...(o as ReadonlyMap<string, RatePolicyInput>)] : Object.entries(o as Readonly<Record<string, RatePolicyInput>>);
  const out = new Map<string, RatePolicyInput>();
  const from = new Map<string, string>();
  for (const [k, p] of entries) {
    const metered = meteredIpKey(k, ipv4Prefix, ipv6Prefix) ?? k;
    const earlier = from.get(metered);
    if (earlier !== undefined) throw new InvalidOptionError(`${at}[${JSON.stringify(k)}]`, `one override per client (${JSON.stringify(earlier)} is metered as ${metered} too)`, k);
    from.set(metered, k);
    out.set(metered, p);
  }
  return out;
}

/**
 * Overrides without a name report under the limit's policy name (a tenant on a bigger plan
 * still sees `"burst"` in its RateLimit header, with its own q). A function's answers are
 * named once per object it returns, so the limiter's per-object validation cache still hits.
 */
function namedOverrides(o: PolicyOverrides, policyName: string): PolicyOverrides {
  const named = (p: RatePolicyInput): RatePolicyInput => (typeof p === 'object' && p !== null && p.name === undefined ? { ...p, name: policyName } : p);
  if (typeof o === 'function') {
    const memo = new WeakMap<object, RatePolicyInput>();
    return (key) => {
      const p = o(key);
      if (typeof p !== 'object' || p === null) return p;
      let n = memo.get(p);
      if (n === undefined) {
        n = named(p);
        memo.set(p, n);
      }
      return n;
    };
  }
  if (o instanceof Map) return new Map([...(o as ReadonlyMap<string, RatePolicyInput>)].map(([k, p]) => [k, named(p)]));
  if (typeof o !== 'object' || o === null) return o;
  return Object.fromEntries(Object.entries(o as Readonly<Record<string, RatePolicyInput>>).map(([k, p]) => [k, named(p)]));
}
