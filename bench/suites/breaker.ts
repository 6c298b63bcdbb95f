/**
 * Breaker suite: the per-call overhead of a circuit breaker on the success path, closed
 * state — what every healthy call pays. One sample = n sequential awaited calls of a no-op
 * async function (`async () => 42`), so the figure is the cost of one wrapped call,
 * against the same loop calling the function bare.
 *
 * Pairs: sluice with a consecutive-failures rule faces cockatiel's ConsecutiveBreaker and
 * opossum; sluice with a time window (10 s in 10 buckets, like opossum's rolling window)
 * faces opossum like for like. opossum runs with `timeout: false`: its default 10 s timeout
 * arms a timer per call, a separate row shows what that costs.
 */
import CircuitBreakerOpossum from 'opossum';
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { CircuitBreaker, consecutiveFailures, timeWindow } from '../../src/breaker/index.js';
import { run } from '../../src/compose/index.js';
import { judge } from '../lib/goals.js';
import { measure } from '../lib/harness.js';
import type { Contender } from '../lib/harness.js';
import type { Suite, SuiteContext, SuiteResult } from '../lib/suite.js';
import { fmtRatio, resultsTable } from '../lib/table.js';

type Call = () => Promise<unknown>;

interface Variant {
  readonly name: string;
  readonly vs?: string;
  readonly about: string;
  /** A fresh breaker around `fn` (untimed); returns one call, and what to dispose. */
  create(fn: () => Promise<number>): { call: Call; dispose?: () => void };
  /** Untimed: the breaker opens on failures; returns a note or throws. */
  verify(): Promise<string>;
}

const ok = async (): Promise<number> => 42;
const boom = async (): Promise<number> => Promise.reject(new Error('boom'));

async function failN(call: Call, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await call().catch(() => undefined);
}

/** What the floor row's shared handlers saw (so they do some work). */
const floorSeen = { ok: 0, failed: 0 };

const OPOSSUM = { resetTimeout: 10_000, errorThresholdPercentage: 50, rollingCountTimeout: 10_000, rollingCountBuckets: 10, volumeThreshold: 5 } as const;

const variants: readonly Variant[] = [
  {
    name: 'sluice',
    about: 'new CircuitBreaker({ rule: consecutiveFailures({ threshold: 5 }) }).execute(fn)',
    create(fn) {
      const b = new CircuitBreaker({ rule: consecutiveFailures({ threshold: 5 }) });
      return { call: () => b.execute(fn) };
    },
    async verify() {
      const b = new CircuitBreaker({ rule: consecutiveFailures({ threshold: 5 }) });
      await failN(() => b.execute(boom), 5);
      if (b.state !== 'open') throw new Error(`state ${b.state} after 5 failures`);
      return 'opens after 5 failures in a row';
    },
  },
  {
    name: 'sluice time window',
    about: 'rule: timeWindow({ windowMs: 10_000, buckets: 10, failureRatio: 0.5, minimumCalls: 5 }); execute(fn)',
    create(fn) {
      const b = new CircuitBreaker({ rule: timeWindow({ windowMs: 10_000, buckets: 10, failureRatio: 0.5, minimumCalls: 5 }) });
      return { call: () => b.execute(fn) };
    },
    async verify() {
      const b = new CircuitBreaker({ rule: timeWindow({ windowMs: 10_000, buckets: 10, failureRatio: 0.5, minimumCalls: 5 }) });
      await failN(() => b.execute(boom), 5);
      if (b.state !== 'open') throw new Error(`state ${b.state} after 5 failures`);
      return 'opens at 50% failures of >= 5 calls in 10 s';
    },
  },
  {
    name: 'sluice run()',
    about: 'the same consecutive breaker through the generic run(gate, fn) of sluice/compose',
    create(fn) {
      const b = new CircuitBreaker({ rule: consecutiveFailures({ threshold: 5 }) });
      return { call: () => run(b, fn) };
    },
    async verify() {
      const b = new CircuitBreaker({ rule: consecutiveFailures({ threshold: 5 }) });
      await failN(() => run(b, boom), 5);
      if (b.state !== 'open') throw new Error(`state ${b.state} after 5 failures`);
      return 'opens after 5 failures in a row';
    },
  },
  {
    name: 'bare',
    vs: 'sluice',
    about: 'await fn() — no breaker (the goal: sluice costs <= 1.2x this)',
    create(fn) {
      return { call: fn };
    },
    verify: async () => 'no breaker',
  },
  {
    name: 'floor',
    vs: 'sluice',
    about: 'fn().then(onOk, onErr) with two shared no-op handlers: the least any wrapper that sees the outcome can cost (one derived promise, one reaction job)',
    create(fn) {
      const onOk = (v: number): number => ((floorSeen.ok += 1), v);
      const onErr = (e: unknown): never => {
        floorSeen.failed += 1;
        throw e;
      };
      return { call: () => fn().then(onOk, onErr) };
    },
    async verify() {
      const { call } = this.create(boom);
      await call().catch(() => undefined);
      if (floorSeen.failed !== 1) throw new Error('the failure was not observed');
      return 'observes the outcome, keeps no state';
    },
  },
  {
    name: 'cockatiel',
    vs: 'sluice',
    about: 'circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }).execute(fn)',
    create(fn) {
      const b = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      return { call: () => b.execute(fn) };
    },
    async verify() {
      const b = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      await failN(() => b.execute(boom), 5);
      if (b.state !== CircuitState.Open) throw new Error(`state ${CircuitState[b.state]} after 5 failures`);
      return 'opens after 5 failures in a row';
    },
  },
  {
    name: 'opossum',
    vs: 'sluice',
    about: `new CircuitBreaker(fn, { timeout: false, ${Object.entries(OPOSSUM).map(([k, v]) => `${k}: ${v}`).join(', ')} }).fire()`,
    create(fn) {
      const b = new CircuitBreakerOpossum(fn, { ...OPOSSUM, timeout: false });
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    },
    async verify() {
      const b = new CircuitBreakerOpossum(boom, { ...OPOSSUM, timeout: false });
      await failN(() => b.fire(), 5);
      const opened = b.opened;
      b.shutdown();
      if (!opened) throw new Error('not open after 5 failures');
      return 'opens at 50% failures of >= 5 calls in 10 s';
    },
  },
  {
    name: 'opossum (vs time window)',
    vs: 'sluice time window',
    about: 'the same opossum breaker, compared with the like-for-like sluice time window',
    create(fn) {
      const b = new CircuitBreakerOpossum(fn, { ...OPOSSUM, timeout: false });
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    },
    verify: async () => 'as above',
  },
  {
    name: 'opossum, 10 s timeout',
    vs: 'sluice time window',
    about: "opossum's default timeout (10 s): a setTimeout armed and cleared per call",
    create(fn) {
      const b = new CircuitBreakerOpossum(fn, { ...OPOSSUM, timeout: 10_000 });
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    },
    verify: async () => 'as above, with a timer per call',
  },
];

function contender(v: Variant, n: number): Contender {
  let made: { call: Call; dispose?: () => void } | undefined;
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    setup() {
      made = v.create(ok);
    },
    async run() {
      const call = made!.call;
      for (let i = 0; i < n; i++) await call();
      return n;
    },
    async warmup() {
      const m = v.create(ok);
      for (let i = 0; i < n / 4; i++) await m.call();
      m.dispose?.();
    },
    teardown() {
      made?.dispose?.();
      made = undefined;
    },
    verify: () => v.verify(),
  };
}

export const breakerSuite: Suite = {
  id: 'breaker',
  title: 'Circuit breaker: per-call overhead, closed state, success path',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const n = ctx.quick ? 100_000 : 500_000;
    const rows = await measure(
      variants.map((v) => contender(v, n)),
      { rounds: ctx.rounds, warmup: ctx.warmup, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} calls/s`) },
    );
    const goals = judge(
      [
        // "sluice adds <= 1.2x a bare async call": sluice's calls/s >= bare's / 1.2.
        { sluice: 'sluice', peer: 'bare', min: 1 / 1.2 },
        { sluice: 'sluice', peer: 'cockatiel', min: 1 },
        { sluice: 'sluice', peer: 'opossum', min: 1 },
        { sluice: 'sluice time window', peer: 'opossum (vs time window)', min: 1 },
      ],
      rows,
    );
    const ns = (name: string): number => 1e9 / rows.find((r) => r.name === name)!.ops.median;
    const bare = ns('bare');
    return {
      id: 'breaker',
      title: this.title,
      workload: `${n.toLocaleString('en-US')} sequential awaited calls of \`async () => 42\` through a closed breaker; one sample = one loop on a fresh breaker`,
      unit: 'calls',
      rows,
      goals,
      tables: [resultsTable('Calls per second', 'calls', rows)],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), the median of per-round ratios against the sluice row named in "compared with". The goal against bare reads "sluice >= 0.83x bare", i.e. a sluice call costs <= 1.2x a bare one.',
        `Per call (median): bare ${bare.toFixed(0)} ns; floor ${ns('floor').toFixed(0)} ns (${fmtRatio(ns('floor') / bare)} bare); sluice ${ns('sluice').toFixed(0)} ns (+${(ns('sluice') - bare).toFixed(0)} ns, ${fmtRatio(ns('sluice') / bare)} bare, ${fmtRatio(ns('sluice') / ns('floor'))} floor); sluice time window ${ns('sluice time window').toFixed(0)} ns; cockatiel ${ns('cockatiel').toFixed(0)} ns; opossum ${ns('opossum').toFixed(0)} ns.`,
        'The function is a no-op, so these figures are pure wrapper cost; against a call that does any I/O (tens of µs) every breaker here is noise.',
        'Every contender was checked (untimed) to open on failures, so none is a no-op.',
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
