/**
 * `sluice simulate`'s engine: one gateway policy — built exactly as the gateway builds it
 * (policyParts → HttpAdmission, with its rollout mode) — against a scenario, on a virtual
 * clock. Requests are fake node:http request/response pairs, so tenants, early refusals,
 * queues, breakers and RateLimit facts behave as they do in the gateway. The upstream is
 * SimServer (a knee, then processor sharing), slowed or failing in the scenario's spells.
 *
 * Per attempt: arrive → admission → (refused: 429/503 with Retry-After) or the upstream →
 * answered or failed; a client that waits longer than its timeout gives up (its response
 * closes, which aborts a wait or drops the permit, as in the gateway). Failed attempts are
 * retried as the client's `retry` says. Promise continuations (a queued decision) run
 * before the clock moves on, so every decision is made at the time it would be.
 */
import { flushMicrotasks, VirtualClock } from '../core/index.js';
import type { RejectionReason } from '../core/types.js';
import type { HttpDecision } from '../http/decision.js';
import { HttpAdmission } from '../http/admission.js';
import type { HttpAdmissionOptions } from '../http/options.js';
import { SignalLatency } from '../metrics/signal-latency.js';
import type { FaultConfig, PolicyConfig } from '../gateway/config-types.js';
import { faultRetryAfterS, RouteFault } from '../gateway/fault-injection.js';
import { RetryBudget } from '../retry/budget.js';
import { PolicyRollout } from '../gateway/policy-mode.js';
import { policyParts } from '../gateway/policy-options.js';
import { quantile } from './adaptive-metrics.js';
import { nextGap, seededRandom } from './adaptive-random.js';
import { SimServer } from './adaptive-server.js';
import { PolicyMeter } from './policy-meter.js';
import type { SimSample } from './policy-meter.js';
import { FakeRequest, FakeResponse } from './fake-http.js';
import type { ClientSpec, Scenario } from './scenario.js';

export interface SimPolicy {
  /** Label in the table and the report. */
  readonly label: string;
  readonly name: string;
  readonly config: PolicyConfig;
  readonly trustProxy?: readonly string[] | undefined;
  /** The route's injected fault (a game day), applied after admission as the gateway does. */
  readonly fault?: FaultConfig | undefined;
  /** The config's `store:` (its URL without a password): the limits it shares are kept in memory here. */
  readonly store?: { readonly url: string; readonly onStoreError: string } | undefined;
}

export interface Onset {
  readonly atMs: number;
  readonly what: string;
  /** Onset → first refusal or limit change, ms; undefined: none before the next onset. */
  readonly signalMs: number | undefined;
}

export interface PolicyRun {
  readonly label: string;
  readonly samples: readonly SimSample[];
  readonly logical: number;
  readonly attempts: number;
  readonly succeeded: number;
  readonly refused: Readonly<Partial<Record<RejectionReason, number>>>;
  readonly shadowRefused: number;
  readonly timeouts: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly onsets: readonly Onset[];
  /** Signal latency as the gateway measures it (sampled every 100 ms), seconds per episode. */
  readonly episodes: readonly number[];
  /** Requests the route's fault delayed and answered with its status; undefined without a fault. */
  readonly faults: { readonly delayed: number; readonly aborted: number } | undefined;
  /** Retries the clients' retry budgets refused (the request was given up instead). */
  readonly budgetDenied: number;
  /** Features of the policy the simulation leaves out, in words. */
  readonly notes: readonly string[];
}

const GAUGE_MS = 100;

interface Job {
  readonly res: FakeResponse;
}

export async function simulatePolicy(policy: SimPolicy, sc: Scenario): Promise<PolicyRun> {
  const clock = new VirtualClock();
  const notes: string[] = [];
  let config = policy.config;
  if (config.shed !== undefined) {
    // The event-loop signal reads this process's loop, not the simulated one.
    const { shed: _shed, ...rest } = config;
    config = rest;
    notes.push('shed left out: event-loop pressure is not simulated');
  }
  if (policy.store !== undefined) {
    // Rehearsing a shared limit in memory is still useful (the scenario as the whole fleet's
    // traffic through one gateway), but it is not what production runs, and must say so.
    notes.push(`store left out: the limits shared through ${policy.store.url} are kept in memory, as if one gateway took all of the scenario's traffic; the store's latency, timeouts and outages (onStoreError: ${policy.store.onStoreError}) are not simulated`);
  }
  const parts = policyParts(config, policy.name, { trustProxy: policy.trustProxy, proxyHeader: undefined, clock });
  const admission = new HttpAdmission<FakeRequest>(parts.options as unknown as HttpAdmissionOptions<FakeRequest>);
  const rollout = new PolicyRollout(config);
  const gates = admission.gates;
  const meter = new PolicyMeter(sc.durationMs, sc.sampleMs);
  const random = seededRandom(sc.seed);
  const server = new SimServer<Job>(sc.capacity, sc.latencyMs);
  const end = sc.durationMs;
  let pending = 0;
  let lastLimit = admission.concurrency?.limit;

  // The upstream: one timer for its next completion, rescheduled whenever it changes.
  let doneTimer: object | undefined;
  const reschedule = (): void => {
    if (doneTimer !== undefined) clock.clearTimer(doneTimer);
    const at = server.nextDoneAt();
    doneTimer = at === Infinity ? undefined : clock.setTimer(onDone, at - clock.now());
  };
  const onDone = (): void => {
    doneTimer = undefined;
    server.advanceTo(clock.now());
    for (let job = server.takeDone(); job !== undefined; job = server.takeDone()) job.res.finish(200);
    reschedule();
  };
  const downAt = (t: number): { status: number; latencyMs: number } | undefined => sc.outages.find((o) => t >= o.from && t < o.to);
  for (const w of sc.slow) {
    const set = (l: number, c: number) => (): void => {
      server.advanceTo(clock.now());
      server.baseLatencyMs = sc.latencyMs * l;
      server.capacity = Math.max(1, Math.round(sc.capacity * c));
      reschedule();
    };
    clock.setTimer(set(w.latencyFactor, w.capacityFactor), w.from);
    clock.setTimer(set(1, 1), w.to);
  }
  // A route's game-day fault happens after admission, where the upstream would (fault-injection.ts).
  const fault = policy.fault === undefined ? undefined : new RouteFault(policy.fault);
  const forward = (res: FakeResponse): void => {
    const f = fault?.pick();
    if (f === undefined) return upstream(res);
    const go = (): void => {
      if (res.closed) return;
      if (f.abortStatus === undefined) upstream(res);
      else res.finish(f.abortStatus, faultRetryAfterS(f.abortStatus));
    };
    if (f.delayMs === undefined) go();
    else clock.setTimer(go, f.delayMs);
  };
  const budgets = new Map(sc.clients.map((c) => [c, c.budget === undefined ? undefined : new RetryBudget({ ...c.budget, clock })]));
  let budgetDenied = 0;
  const upstream = (res: FakeResponse): void => {
    const down = downAt(clock.now());
    if (down !== undefined) {
      clock.setTimer(() => res.finish(down.status), down.latencyMs);
      return;
    }
    server.advanceTo(clock.now());
    server.start({ res });
    reschedule();
  };

  const attempt = (c: ClientSpec, tenant: number, n: number, logicalStart: number): void => {
    const t0 = clock.now();
    if (t0 >= end) return;
    meter.offer(t0, n > 1);
    if (n === 1) budgets.get(c)?.recordRequest();
    const req = new FakeRequest(tenant);
    const res = new FakeResponse();
    let settled = false;
    const retry = (retryAfterS: number | undefined): void => {
      if (n >= c.attempts) {
        meter.gaveUp++;
        return;
      }
      if (budgets.get(c)?.tryRetry() === false) {
        budgetDenied++;
        meter.gaveUp++;
        return;
      }
      let wait = 0;
      if (c.backoff === 'exponential') wait = random() * Math.min(c.maxMs, c.baseMs * 2 ** (n - 1));
      if (c.retryAfter && retryAfterS !== undefined) wait = Math.max(wait, retryAfterS * 1000);
      clock.setTimer(() => attempt(c, tenant, n + 1, logicalStart), wait);
    };
    const giveUp = clock.setTimer(() => {
      if (settled) return;
      settled = true;
      meter.timeout(clock.now());
      res.abort();
      retry(undefined);
    }, c.timeoutMs);
    res.onFinish = (status, retryAfterS) => {
      if (settled) return;
      settled = true;
      clock.clearTimer(giveUp);
      const ok = status < 400;
      meter.answered(clock.now(), clock.now() - t0, ok);
      if (!ok) retry(retryAfterS);
    };
    const refused = (d: Extract<HttpDecision, { type: 'rejected' }>): void => {
      if (settled) return;
      settled = true;
      clock.clearTimer(giveUp);
      meter.refuse(clock.now(), d.rejection.reason, false);
      const ra = d.headers.find(([k]) => k.toLowerCase() === 'retry-after');
      retry(ra === undefined ? undefined : Number(ra[1]));
    };
    const decide = (d: HttpDecision): void => {
      if (d.type === 'abandoned' || res.closed) return;
      if (d.type === 'rejected') {
        if (!rollout.shadow) return refused(d);
        meter.refuse(clock.now(), d.rejection.reason, true);
      } else if (d.type === 'admitted') meter.admit(clock.now());
      forward(res);
    };
    if (!rollout.applies(() => admission.tenantOf(req))) return forward(res);
    const d = admission.handle(req, res, undefined, '/');
    if (!(d instanceof Promise)) return decide(d);
    pending++;
    const done = (x: HttpDecision): void => {
      pending--;
      decide(x);
    };
    if (rollout.shadow) {
      // A shadow decision is not waited for.
      forward(res);
      void d.then((x) => {
        pending--;
        if (x.type === 'rejected') meter.refuse(clock.now(), x.rejection.reason, true);
      });
      return;
    }
    void d.then(done, () => pending--);
  };

  // Arrivals: per client, the rate at time t is its step's plus any spike's.
  sc.clients.forEach((c, ci) => {
    const rateAt = (t: number): number => {
      let r = 0;
      for (const s of c.steps) if (s.at <= t) r = s.perMs;
      for (const s of c.spikes) if (t >= s.from && t < s.to) r += s.perMs;
      return r;
    };
    const changes = [...new Set([...c.steps.map((s) => s.at), ...c.spikes.flatMap((s) => [s.from, s.to])])].filter((t) => t < end).sort((a, b) => a - b);
    let seq = 0;
    let timer: object | undefined;
    const schedule = (): void => {
      const r = rateAt(clock.now());
      const gap = nextGap(c.arrivals, r, random);
      timer = gap === Infinity ? undefined : clock.setTimer(arrive, gap);
    };
    const arrive = (): void => {
      attempt(c, ci * 100_000 + (seq++ % c.tenants), 1, clock.now());
      schedule();
    };
    // A rate change redraws the next arrival (Poisson arrivals are memoryless).
    for (const t of changes)
      clock.setTimer(() => {
        if (timer !== undefined) clock.clearTimer(timer);
        schedule();
      }, t);
  });

  const tracker = new SignalLatency();
  const episodes: number[] = [];
  const gaugeTick = (): void => {
    const now = clock.now();
    const cs = admission.concurrency;
    meter.gauges(now, {
      limit: cs?.limit ?? NaN,
      inFlight: cs?.inFlight ?? server.inFlight,
      queued: cs?.queued ?? 0,
      breakerOpen: parts.breaker?.stats().state === 'open' ? 1 : 0,
    });
    for (const e of tracker.sample(gates.map((g) => g.stats()), now)) episodes.push(e.seconds);
    if (cs !== undefined && cs.limit !== lastLimit) {
      lastLimit = cs.limit;
      meter.react(now);
    }
    if (now + GAUGE_MS < end) clock.setTimer(gaugeTick, GAUGE_MS);
  };
  clock.setTimer(gaugeTick, 0);

  for (let next = clock.nextTimerAt(); next !== undefined && next < end; next = clock.nextTimerAt()) {
    clock.advanceTo(next);
    if (pending > 0) await settleDecisions();
  }
  admission.close();
  await flushMicrotasks();

  const samples = meter.samples();
  const refused: Partial<Record<RejectionReason, number>> = {};
  let shadowRefused = 0;
  let timeouts = 0;
  let failed = 0;
  const perPeriod = sc.sampleMs / 1000;
  for (const s of samples) {
    for (const [k, v] of Object.entries(s.refused)) refused[k as RejectionReason] = (refused[k as RejectionReason] ?? 0) + Math.round(v * perPeriod);
    shadowRefused += Math.round(s.shadowRefused * perPeriod);
    timeouts += Math.round(s.timeouts * perPeriod);
    failed += Math.round(s.failed * perPeriod);
  }
  const onsets = overloadOnsets(sc).map((o, i, all) => ({ ...o, signalMs: meter.reactionAfter(o.atMs, all[i + 1]?.atMs ?? end) }));
  return {
    label: policy.label,
    samples,
    logical: meter.logical,
    attempts: meter.attempts,
    succeeded: meter.succeeded,
    refused,
    shadowRefused,
    timeouts,
    failed,
    p50Ms: quantile(meter.allLatencies, 0.5),
    p99Ms: quantile(meter.allLatencies, 0.99),
    onsets,
    episodes,
    faults: fault === undefined ? undefined : { delayed: fault.delayed, aborted: fault.aborted },
    budgetDenied,
    notes,
  };
}

/**
 * Let the continuations of decisions made at this instant run before the clock moves on. A
 * decision settles through a short, fixed chain of promise reactions (gate → chain → policy →
 * here); 32 microtask turns cover it many times over at a fraction of a macrotask's cost.
 * (SIM_FLUSH=immediate uses a macrotask per instant instead, to check that nothing differs.)
 */
const immediate = process.env['SIM_FLUSH'] === 'immediate';
async function settleDecisions(): Promise<void> {
  if (immediate) return flushMicrotasks();
  for (let i = 0; i < 32; i++) await Promise.resolve();
}

/**
 * Where the scenario overloads the upstream: a rate step or spike that takes the offered rate
 * above the upstream's throughput (capacity / latency), the start of a slow spell, an outage.
 */
export function overloadOnsets(sc: Scenario): { atMs: number; what: string }[] {
  const out: { atMs: number; what: string }[] = [];
  const capacityPerMs = sc.capacity / sc.latencyMs;
  const times = [...new Set(sc.clients.flatMap((c) => [...c.steps.map((s) => s.at), ...c.spikes.map((s) => s.from)]))].sort((a, b) => a - b);
  let over = false;
  for (const t of times) {
    let r = 0;
    for (const c of sc.clients) {
      let cr = 0;
      for (const s of c.steps) if (s.at <= t) cr = s.perMs;
      for (const s of c.spikes) if (t >= s.from && t < s.to) cr += s.perMs;
      r += cr;
    }
    const now = r > capacityPerMs;
    if (now && !over) out.push({ atMs: t, what: `arrivals ${Math.round(r * 1000)}/s > capacity ${Math.round(capacityPerMs * 1000)}/s` });
    over = now;
  }
  for (const w of sc.slow) out.push({ atMs: w.from, what: `upstream slows (latency x${w.latencyFactor}, capacity x${w.capacityFactor})` });
  for (const o of sc.outages) out.push({ atMs: o.from, what: `outage (${o.status})` });
  return out.sort((a, b) => a.atMs - b.atMs);
}
