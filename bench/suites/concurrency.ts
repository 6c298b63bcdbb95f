/**
 * Suite 1: concurrency-gated async tasks — the "map with concurrency" use. N no-op async
 * tasks, limit 16, all submitted at once, awaited with Promise.all.
 *
 * Two sluice rows: plain `run(gate, fn)`, and "full" with a per-task AbortSignal, a batch
 * deadline and a priority (1 task in 10 is urgent) under the priority discipline. Each peer
 * row is compared with the sluice row that asks for the same or more: p-limit, cockatiel and
 * the floor have none of these features and face plain sluice; the peers' own featured
 * variants face "sluice full", which does at least as much.
 */
import { setMaxListeners } from 'node:events';
import { bulkhead } from 'cockatiel';
import Bottleneck from 'bottleneck';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { run } from '../../src/compose/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { judge } from '../lib/goals.js';
import { measure } from '../lib/harness.js';
import type { Contender } from '../lib/harness.js';
import { RingSemaphore } from '../lib/semaphore.js';
import type { Suite, SuiteContext, SuiteResult } from '../lib/suite.js';
import { fmtRatio, resultsTable } from '../lib/table.js';
import type { Table } from '../lib/table.js';

const LIMIT = 16;
/** Batch deadline / expiration, far enough never to fire: we measure the bookkeeping. */
const DEADLINE_MS = 60_000;

type Task = () => Promise<void>;
type Submit = (task: Task, i: number) => Promise<unknown>;

interface Variant {
  readonly name: string;
  readonly vs?: string;
  readonly about: string;
  /** A fresh limiter for a batch of n tasks (untimed); returns how to submit one task. */
  create(n: number): Submit;
  /** Tasks per sample when the suite's n would take minutes (full run, quick run). */
  readonly slow?: { readonly n: number; readonly quickN: number };
}

/**
 * bottleneck's local datastore awaits a `setTimeout(0)` (>= 1 ms) inside every submit,
 * register and free, and serializes submissions behind a lock, so it starts about one job
 * per timer turn: ~400 tasks/s here whatever the batch size (measured 500..4000: flat).
 * 100k tasks would take four minutes, so it runs smaller batches; its tasks/s is per task.
 */
const BOTTLENECK_BATCH = { n: 250, quickN: 100 } as const;

const noop: Task = async () => {};
const urgent = (i: number): boolean => i % 10 === 0;

function signals(n: number): AbortSignal[] {
  const out = new Array<AbortSignal>(n);
  for (let i = 0; i < n; i++) out[i] = new AbortController().signal;
  return out;
}

const variants: readonly Variant[] = [
  {
    name: 'sluice',
    about: 'run(new ConcurrencyGate({ limit: 16, maxQueue: Infinity }), fn)',
    create() {
      const gate = new ConcurrencyGate({ limit: LIMIT, maxQueue: Infinity });
      return (task) => run(gate, task);
    },
  },
  {
    name: 'sluice full',
    about: "discipline 'priority'; run(gate, fn, { signal, deadline, priority }) — own AbortSignal per task, batch deadline now+60 s, 1 in 10 urgent; stats() checked",
    create(n) {
      const gate = new ConcurrencyGate({ limit: LIMIT, maxQueue: Infinity, discipline: 'priority' });
      const sig = signals(n);
      const deadline = gate.clock.now() + DEADLINE_MS;
      return (task, i) => run(gate, task, { signal: sig[i]!, deadline, priority: urgent(i) ? 1 : 0 });
    },
  },
  {
    name: 'p-limit',
    vs: 'sluice',
    about: 'pLimit(16)(fn)',
    create() {
      const limit = pLimit(LIMIT);
      return (task) => limit(task);
    },
  },
  {
    name: 'p-queue',
    vs: 'sluice',
    about: 'new PQueue({ concurrency: 16 }).add(fn)',
    create() {
      const q = new PQueue({ concurrency: LIMIT });
      return (task) => q.add(task);
    },
  },
  {
    name: 'p-queue full',
    vs: 'sluice full',
    about: 'queue.add(fn, { signal, priority }) — own AbortSignal per task, 1 in 10 urgent (p-queue has no queue deadline)',
    create(n) {
      const q = new PQueue({ concurrency: LIMIT });
      const sig = signals(n);
      return (task, i) => q.add(task, { signal: sig[i]!, priority: urgent(i) ? 1 : 0 });
    },
  },
  {
    name: 'bottleneck',
    vs: 'sluice',
    about: `new Bottleneck({ maxConcurrent: 16 }).schedule(fn); smaller batches (see notes)`,
    slow: BOTTLENECK_BATCH,
    create() {
      const b = new Bottleneck({ maxConcurrent: LIMIT });
      return (task) => b.schedule(task);
    },
  },
  {
    name: 'bottleneck full',
    vs: 'sluice full',
    about: `trackDoneStatus: true; schedule({ priority, expiration: 60 s }, fn), 1 in 10 urgent (bottleneck has no abort signal); smaller batches`,
    slow: BOTTLENECK_BATCH,
    create() {
      const b = new Bottleneck({ maxConcurrent: LIMIT, trackDoneStatus: true });
      return (task, i) => b.schedule({ priority: urgent(i) ? 4 : 5, expiration: DEADLINE_MS }, task);
    },
  },
  {
    name: 'cockatiel',
    vs: 'sluice',
    about: 'bulkhead(16, Infinity).execute(fn)',
    create() {
      const b = bulkhead(LIMIT, Infinity);
      return (task) => b.execute(task);
    },
  },
  {
    name: 'floor',
    vs: 'sluice',
    about: 'hand-written ring-buffer semaphore (bench/lib/semaphore.ts): counter + ring of resolve functions',
    create() {
      const s = new RingSemaphore(LIMIT);
      return (task) => s.run(task);
    },
  },
];

async function batch(submit: Submit, task: Task, n: number): Promise<void> {
  const ps = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) ps[i] = submit(task, i);
  await Promise.all(ps);
}

function contender(v: Variant, suiteN: number, quick: boolean): Contender {
  const n = v.slow === undefined ? suiteN : quick ? v.slow.quickN : v.slow.n;
  let submit: Submit | undefined;
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    setup() {
      submit = v.create(n);
    },
    async run() {
      await batch(submit!, noop, n);
      return n;
    },
    // JIT warm-up needs the code paths, not a full batch (quadratic peers would cost seconds).
    async warmup() {
      const w = Math.max(1, Math.ceil(n / 10));
      await batch(v.create(w), noop, w);
    },
    teardown() {
      submit = undefined;
    },
    verify: () => verify(v),
  };
}

/** Untimed: the limit holds, is reached, and every task runs once. */
async function verify(v: Variant): Promise<string> {
  // A slow limiter starts a job per timer turn: fewer, longer tasks let it reach the limit.
  const n = v.slow === undefined ? 500 : 48;
  const holdMs = v.slow === undefined ? 1 : 100;
  let inFlight = 0;
  let peak = 0;
  let done = 0;
  const task: Task = async () => {
    inFlight++;
    if (inFlight > peak) peak = inFlight;
    await new Promise<void>((resolve) => setTimeout(resolve, holdMs));
    inFlight--;
    done++;
  };
  await batch(v.create(n), task, n);
  if (peak !== LIMIT || done !== n) throw new Error(`${v.name}: peak in flight ${peak} (want ${LIMIT}), done ${done}/${n}`);
  return `peak in flight ${peak}, ${done}/${n} done`;
}

/**
 * Scaling probe: one AbortSignal shared by the whole batch (the usual way to cancel a
 * `map`). Node's EventTarget walks its listener list on every addEventListener (duplicate
 * check), so a limiter that subscribes each queued task to the signal pays O(n) per task.
 */
async function sharedSignalProbe(sizes: readonly number[]): Promise<Table> {
  const probes: { name: string; create(signal: AbortSignal): Submit }[] = [
    {
      name: 'sluice full (shared signal)',
      create(signal) {
        const gate = new ConcurrencyGate({ limit: LIMIT, maxQueue: Infinity, discipline: 'priority' });
        const deadline = gate.clock.now() + DEADLINE_MS;
        return (task, i) => run(gate, task, { signal, deadline, priority: urgent(i) ? 1 : 0 });
      },
    },
    {
      name: 'p-queue full (shared signal)',
      create(signal) {
        const q = new PQueue({ concurrency: LIMIT });
        return (task, i) => q.add(task, { signal, priority: urgent(i) ? 1 : 0 });
      },
    },
    {
      name: 'cockatiel + signal (shared)',
      create(signal) {
        const b = bulkhead(LIMIT, Infinity);
        return (task) => b.execute(task, signal);
      },
    },
  ];
  const rows: string[][] = [];
  for (const p of probes) {
    const cells = [p.name];
    for (const n of sizes) {
      const signal = new AbortController().signal;
      setMaxListeners(0, signal);
      const submit = p.create(signal);
      const t0 = performance.now();
      await batch(submit, noop, n);
      cells.push(`${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs`);
    }
    rows.push(cells);
  }
  return {
    title: 'Probe: time per task with ONE AbortSignal shared by the batch (single run each, not interleaved)',
    columns: ['contender', ...sizes.map((n) => `n = ${n / 1000}k`)],
    align: ['l', ...sizes.map(() => 'r' as const)],
    rows,
  };
}

export const concurrencySuite: Suite = {
  id: 'concurrency',
  title: 'Concurrency-gated async tasks',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const n = ctx.quick ? 20_000 : 100_000;
    const rows = await measure(
      variants.map((v) => contender(v, n, ctx.quick)),
      { rounds: ctx.rounds, warmup: ctx.warmup, warmupMs: ctx.warmupMs, forceGc: ctx.forceGc, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} tasks/s`) },
    );
    const goals = judge(
      [
        { sluice: 'sluice', peer: 'p-limit', min: 2 },
        { sluice: 'sluice', peer: 'cockatiel', min: 1 },
        { sluice: 'sluice', peer: 'floor', min: 0.9 },
      ],
      rows,
    );
    const probe = await sharedSignalProbe(ctx.quick ? [2_000, 4_000] : [5_000, 10_000, 20_000]);
    const full = rows.find((r) => r.name === 'sluice full')!;
    const plain = rows.find((r) => r.name === 'sluice')!;
    return {
      id: 'concurrency',
      title: this.title,
      workload: `${n.toLocaleString('en-US')} no-op async tasks (\`async () => {}\`), limit ${LIMIT}, all submitted at once and awaited with Promise.all; one sample = one batch on a fresh limiter`,
      unit: 'tasks',
      rows,
      goals,
      tables: [resultsTable('Throughput', 'tasks', rows), probe],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), the median of per-round ratios against the sluice row named in "compared with".',
        'Per-task AbortSignals are created before timing (one AbortController per task, like per-request signals); the shared-signal case is the probe table.',
        `bottleneck rows run ${ctx.quick ? BOTTLENECK_BATCH.quickN : BOTTLENECK_BATCH.n} tasks per sample, not ${n.toLocaleString('en-US')}: its local datastore awaits setTimeout(0) in every submit/register/free behind a submit lock, so it starts about one job per timer turn (~400 tasks/s at any batch size); a full batch would take minutes.`,
        `sluice full costs ${fmtRatio(plain.ops.median / full.ops.median)} the time of plain sluice per task (a listener on each task's own signal, the deadline queue, the priority heap).`,
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
