/**
 * A `sluice simulate` scenario: what arrives (clients with arrival-rate steps, spikes,
 * timeouts and retries) and what serves it (an upstream with a knee, spells in which it
 * slows, outages). Read from YAML or JSON with positions and checked against
 * SCENARIO_SCHEMA; every mistake is reported as the gateway config's are
 * (`scenario.yaml:7: clients[0].retry.backof: expected one of the keys ..., found unknown key "backof"`).
 */
import type { ValidateFunction } from 'ajv';
import { describeValue, formatPath, GatewayConfigError } from '../gateway/config-error.js';
import type { ConfigIssue } from '../gateway/config-error.js';
import { schemaIssues, valueAt } from '../gateway/schema-errors.js';
import { compileSchema } from '../gateway/duration-schema.js';
import { durationMs, rateOf } from '../gateway/units.js';
import type { Duration, Rate } from '../gateway/units.js';
import { parseYaml } from '../gateway/yaml-source.js';
import type { Arrivals } from './adaptive-random.js';
import { RETRY_BUDGET_DEFAULTS } from '../retry/budget.js';
import { SCENARIO_SCHEMA } from './scenario-schema.js';

export interface ScenarioInput {
  readonly name?: string;
  readonly duration: Duration;
  readonly sample?: Duration;
  readonly seed?: number;
  readonly upstream: {
    readonly capacity: number;
    readonly latency: Duration;
    readonly slow?: readonly { readonly at: Duration; readonly for: Duration; readonly latencyFactor?: number; readonly capacityFactor?: number }[];
    readonly outages?: readonly { readonly at: Duration; readonly for: Duration; readonly status?: number; readonly latency?: Duration }[];
  };
  readonly clients: readonly {
    readonly name?: string;
    readonly tenants?: number;
    readonly timeout?: Duration;
    readonly arrivals?: Arrivals;
    readonly rate: readonly { readonly at: Duration; readonly rate: Rate }[];
    readonly spikes?: readonly { readonly at: Duration; readonly for: Duration; readonly rate: Rate }[];
    readonly retry?: { readonly attempts: number; readonly backoff?: 'none' | 'exponential'; readonly base?: Duration; readonly max?: Duration; readonly retryAfter?: boolean; readonly budget?: { readonly ratio?: number; readonly minRetries?: number; readonly window?: Duration } };
  }[];
}

export interface Spell {
  readonly from: number;
  readonly to: number;
}

export interface ClientSpec {
  readonly name: string;
  readonly tenants: number;
  readonly timeoutMs: number;
  readonly arrivals: Arrivals;
  /** Arrival-rate steps, per ms, sorted by time. */
  readonly steps: readonly { readonly at: number; readonly perMs: number }[];
  readonly spikes: readonly (Spell & { readonly perMs: number })[];
  readonly attempts: number;
  readonly backoff: 'none' | 'exponential';
  readonly baseMs: number;
  readonly maxMs: number;
  readonly retryAfter: boolean;
  /** A retry budget over the client's tenants; undefined: every attempt may be retried. */
  readonly budget: { readonly ratio: number; readonly minRetries: number; readonly windowMs: number } | undefined;
}

export interface Scenario {
  readonly name: string;
  readonly durationMs: number;
  readonly sampleMs: number;
  readonly seed: number;
  readonly capacity: number;
  readonly latencyMs: number;
  readonly slow: readonly (Spell & { readonly latencyFactor: number; readonly capacityFactor: number })[];
  readonly outages: readonly (Spell & { readonly status: number; readonly latencyMs: number })[];
  readonly clients: readonly ClientSpec[];
}

export const SCENARIO_DEFAULTS = { sampleMs: 1000, seed: 1, tenants: 1, timeoutMs: 10_000, arrivals: 'poisson', backoff: 'exponential', baseMs: 100, maxMs: 10_000, outageStatus: 503, outageLatencyMs: 1 } as const;

let compiled: ValidateFunction | undefined;

/** Parse and check scenario text (YAML or JSON); `file` names it in errors. Throws GatewayConfigError. */
export function parseScenario(text: string, file: string): Scenario {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) throw new GatewayConfigError(file, parsed.issues);
  return resolveScenario(parsed.value, file, parsed.source);
}

export function resolveScenario(value: unknown, file = '<scenario>', source?: { lineOf(path: readonly (string | number)[]): number | undefined }): Scenario {
  compiled ??= compileSchema(SCENARIO_SCHEMA);
  const src = source === undefined ? undefined : { file, lineOf: (p: readonly (string | number)[]) => source.lineOf(p) };
  if (!compiled(value)) throw new GatewayConfigError(file, schemaIssues(compiled.errors ?? [], value, src));
  const s = value as ScenarioInput;
  const issues: ConfigIssue[] = [];
  const add = (path: (string | number)[], expected: string): void => {
    issues.push({ path: formatPath(path), line: source?.lineOf(path), expected, found: describeValue(valueAt(value, path)) });
  };
  const durationMsOf = durationMs(s.duration);
  const sampleMs = s.sample === undefined ? SCENARIO_DEFAULTS.sampleMs : durationMs(s.sample);
  // Each sample is a point of every chart and of --json: `sample: 10ms` over 1h made 360,000 per
  // policy (700 MB for a run of 3,600 requests, a 27 MB report no browser draws).
  const minSampleMs = Math.max(10, Math.ceil(durationMsOf / MAX_SCENARIO_SAMPLES));
  if (sampleMs < minSampleMs || sampleMs > durationMsOf) add(['sample'], `a duration in [${minSampleMs}ms, duration] (at most ${MAX_SCENARIO_SAMPLES.toLocaleString('en-US')} samples over the duration)`);
  // A step, spike or spell that starts at or after the end never happens: `at: 90s` in a 60s
  // scenario ran without it and said nothing (a step the only one: a run of no requests).
  const within = (path: (string | number)[], at: Duration): void => {
    if (durationMs(at) >= durationMsOf) add(path, `a time before the end of the scenario (duration ${s.duration})`);
  };
  (s.upstream.slow ?? []).forEach((w, j) => within(['upstream', 'slow', j, 'at'], w.at));
  (s.upstream.outages ?? []).forEach((o, j) => within(['upstream', 'outages', j, 'at'], o.at));
  s.clients.forEach((c, i) => {
    c.rate.forEach((r, j) => within(['clients', i, 'rate', j, 'at'], r.at));
    (c.spikes ?? []).forEach((p, j) => within(['clients', i, 'spikes', j, 'at'], p.at));
  });
  const clients = s.clients.map((c, i): ClientSpec => {
    const steps = c.rate.map((r) => ({ at: durationMs(r.at), perMs: perMs(r.rate) }));
    steps.forEach((st, j) => {
      if (j > 0 && st.at <= steps[j - 1]!.at) add(['clients', i, 'rate', j, 'at'], `a time after the previous step's (${steps[j - 1]!.at} ms)`);
    });
    const r = c.retry;
    const baseMs = r?.base === undefined ? SCENARIO_DEFAULTS.baseMs : durationMs(r.base);
    const maxMs = r?.max === undefined ? Math.max(baseMs, SCENARIO_DEFAULTS.maxMs) : durationMs(r.max);
    if (maxMs < baseMs) add(['clients', i, 'retry', 'max'], `a duration >= base (${baseMs} ms)`);
    const backoff = r?.backoff ?? (r === undefined ? 'none' : SCENARIO_DEFAULTS.backoff);
    if (r?.budget?.window !== undefined && durationMs(r.budget.window) <= 0) add(['clients', i, 'retry', 'budget', 'window'], 'a duration > 0');
    if (backoff === 'none' && (r?.base !== undefined || r?.max !== undefined)) add(['clients', i, 'retry', r.base !== undefined ? 'base' : 'max'], 'no base or max with backoff: none (it retries at once)');
    return {
      name: c.name ?? `client-${i}`,
      tenants: c.tenants ?? SCENARIO_DEFAULTS.tenants,
      timeoutMs: c.timeout === undefined ? SCENARIO_DEFAULTS.timeoutMs : durationMs(c.timeout),
      arrivals: c.arrivals ?? SCENARIO_DEFAULTS.arrivals,
      steps,
      spikes: (c.spikes ?? []).map((p) => ({ from: durationMs(p.at), to: durationMs(p.at) + durationMs(p.for), perMs: perMs(p.rate) })),
      attempts: r?.attempts ?? 1,
      backoff,
      baseMs,
      maxMs,
      retryAfter: r?.retryAfter ?? backoff === 'exponential',
      budget:
        r?.budget === undefined
          ? undefined
          : {
              ratio: r.budget.ratio ?? RETRY_BUDGET_DEFAULTS.ratio,
              minRetries: r.budget.minRetries ?? RETRY_BUDGET_DEFAULTS.minRetries,
              windowMs: r.budget.window === undefined ? RETRY_BUDGET_DEFAULTS.windowMs : durationMs(r.budget.window),
            },
    };
  });
  const offered = offeredAttempts(clients, durationMsOf);
  if (offered > MAX_SCENARIO_ATTEMPTS) {
    issues.push({ path: 'clients', line: source?.lineOf(['clients']), expected: `at most ${MAX_SCENARIO_ATTEMPTS.toLocaleString('en-US')} attempts over the duration (the clients' rates and spikes x duration x retry attempts; each is simulated one by one)`, found: `${offered.toExponential(2)} attempts` });
  }
  if (issues.length > 0) throw new GatewayConfigError(file, issues);
  const u = s.upstream;
  return {
    name: s.name ?? file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''),
    durationMs: durationMsOf,
    sampleMs,
    seed: s.seed ?? SCENARIO_DEFAULTS.seed,
    capacity: u.capacity,
    latencyMs: durationMs(u.latency),
    slow: (u.slow ?? []).map((w) => ({ from: durationMs(w.at), to: durationMs(w.at) + durationMs(w.for), latencyFactor: w.latencyFactor ?? 1, capacityFactor: w.capacityFactor ?? 1 })),
    outages: (u.outages ?? []).map((o) => ({
      from: durationMs(o.at),
      to: durationMs(o.at) + durationMs(o.for),
      status: o.status ?? SCENARIO_DEFAULTS.outageStatus,
      latencyMs: o.latency === undefined ? SCENARIO_DEFAULTS.outageLatencyMs : durationMs(o.latency),
    })),
    clients,
  };
}

/** The most samples a run keeps (duration / sample): each is a point of every chart. */
export const MAX_SCENARIO_SAMPLES = 20_000;

/**
 * The most attempts a scenario may offer: each is simulated one by one (a million took 33 s
 * on a busy machine, per policy), so `rate: 1000000000/s` for an hour ran for days.
 */
export const MAX_SCENARIO_ATTEMPTS = 5_000_000;

/** Attempts the clients offer at most over the duration: the steps' and spikes' arrivals, times each client's attempts. */
function offeredAttempts(clients: readonly ClientSpec[], durationMs: number): number {
  let total = 0;
  for (const c of clients) {
    let arrivals = 0;
    c.steps.forEach((st, j) => {
      const end = Math.min(durationMs, c.steps[j + 1]?.at ?? durationMs);
      if (end > st.at) arrivals += st.perMs * (end - st.at);
    });
    for (const sp of c.spikes) arrivals += sp.perMs * Math.max(0, Math.min(durationMs, sp.to) - sp.from);
    total += arrivals * c.attempts;
  }
  return total;
}

function perMs(r: Rate): number {
  const { rate, perMs } = rateOf(r);
  return rate / perMs;
}
