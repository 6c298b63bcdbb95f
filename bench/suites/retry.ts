/**
 * Retry suite: the overhead of a retry wrapper on the success path — the cost every call
 * pays for being retryable. One sample = n sequential awaited calls of a no-op async
 * function that succeeds at once.
 *
 * Pairs: sluice's RetryPolicy with defaults (3 attempts, full jitter) faces cockatiel's
 * retry (3 attempts, exponential backoff); "sluice full" adds a per-attempt timeout, an
 * overall deadline and a retry budget, and faces cockatiel's retry wrapped around its
 * cooperative timeout (cockatiel has no deadline or budget).
 */
import { ExponentialBackoff, handleAll, retry, timeout, TimeoutStrategy, wrap } from 'cockatiel';
import { RetryBudget, RetryPolicy } from '../../src/retry/index.js';
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
  create(fn: () => Promise<number>): Call;
  /** Untimed: a function failing twice then succeeding is retried to success; returns a note or throws. */
  verify(): Promise<string>;
}

const ok = async (): Promise<number> => 42;

/** Fails twice, then returns 42; counts calls. */
function flaky(): { fn: () => Promise<number>; calls: () => number } {
  let n = 0;
  return { fn: async () => (++n < 3 ? Promise.reject(new Error('flaky')) : 42), calls: () => n };
}

async function checkRetries(make: (fn: () => Promise<number>) => Call): Promise<string> {
  const f = flaky();
  const v = await make(f.fn)();
  if (v !== 42 || f.calls() !== 3) throw new Error(`value ${String(v)} after ${f.calls()} calls`);
  return 'retries a twice-failing call to success (3 calls)';
}

const variants: readonly Variant[] = [
  {
    name: 'sluice',
    about: 'new RetryPolicy({ maxAttempts: 3 }).execute(fn) — full jitter from 100 ms',
    create(fn) {
      const p = new RetryPolicy({ maxAttempts: 3 });
      return () => p.execute(fn);
    },
    verify: () => checkRetries((fn) => {
      const p = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 1 });
      return () => p.execute(fn);
    }),
  },
  {
    name: 'sluice full',
    about: 'RetryPolicy({ maxAttempts: 3, attemptTimeoutMs: 10_000, deadlineMs: 60_000, budget: new RetryBudget() }) — an AbortSignal and a timer per attempt',
    create(fn) {
      const p = new RetryPolicy({ maxAttempts: 3, attemptTimeoutMs: 10_000, deadlineMs: 60_000, budget: new RetryBudget() });
      return () => p.execute(fn);
    },
    verify: () => checkRetries((fn) => {
      const p = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 1, attemptTimeoutMs: 10_000, deadlineMs: 60_000, budget: new RetryBudget() });
      return () => p.execute(fn);
    }),
  },
  {
    name: 'bare',
    vs: 'sluice',
    about: 'await fn() — no retry',
    create: (fn) => fn,
    verify: async () => 'no retry',
  },
  {
    name: 'cockatiel',
    vs: 'sluice',
    about: 'retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }).execute(fn)',
    create(fn) {
      const p = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
      return () => p.execute(fn);
    },
    verify: () => checkRetries((fn) => {
      // cockatiel's maxAttempts counts retries: 2 retries = 3 calls.
      const p = retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 1 }) });
      return () => p.execute(fn);
    }),
  },
  {
    name: 'cockatiel + timeout',
    vs: 'sluice full',
    about: 'wrap(retry(...), timeout(10_000, TimeoutStrategy.Cooperative)).execute(fn) — cockatiel has no deadline or budget',
    create(fn) {
      const p = wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }), timeout(10_000, TimeoutStrategy.Cooperative));
      return () => p.execute(fn);
    },
    verify: () => checkRetries((fn) => {
      const p = wrap(retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 1 }) }), timeout(10_000, TimeoutStrategy.Cooperative));
      return () => p.execute(fn);
    }),
  },
];

function contender(v: Variant, n: number): Contender {
  let call: Call | undefined;
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    setup() {
      call = v.create(ok);
    },
    async run() {
      const c = call!;
      for (let i = 0; i < n; i++) await c();
      return n;
    },
    async warmup() {
      const c = v.create(ok);
      for (let i = 0; i < n / 4; i++) await c();
    },
    teardown() {
      call = undefined;
    },
    verify: () => v.verify(),
  };
}

export const retrySuite: Suite = {
  id: 'retry',
  title: 'Retry wrapper: overhead on the success path',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const n = ctx.quick ? 100_000 : 500_000;
    const rows = await measure(
      variants.map((v) => contender(v, n)),
      { rounds: ctx.rounds, warmup: ctx.warmup, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} calls/s`) },
    );
    const goals = judge(
      [
        { sluice: 'sluice', peer: 'cockatiel', min: 1 },
        { sluice: 'sluice full', peer: 'cockatiel + timeout', min: 1 },
      ],
      rows,
    );
    const ns = (name: string): number => 1e9 / rows.find((r) => r.name === name)!.ops.median;
    const bare = ns('bare');
    return {
      id: 'retry',
      title: this.title,
      workload: `${n.toLocaleString('en-US')} sequential awaited calls of \`async () => 42\` (succeeds at once) through a retry wrapper; one sample = one loop`,
      unit: 'calls',
      rows,
      goals,
      tables: [resultsTable('Calls per second', 'calls', rows)],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), paired by round.',
        `Per call (median): bare ${bare.toFixed(0)} ns; sluice ${ns('sluice').toFixed(0)} ns (${fmtRatio(ns('sluice') / bare)} bare); sluice full ${ns('sluice full').toFixed(0)} ns; cockatiel ${ns('cockatiel').toFixed(0)} ns; cockatiel + timeout ${ns('cockatiel + timeout').toFixed(0)} ns.`,
        'sluice runs an attempt bare (a shared never-aborting signal, no timer, no listener) when the policy has no timeout or deadline and the call no signal; "sluice full" pays for an AbortController and a timer per attempt.',
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
