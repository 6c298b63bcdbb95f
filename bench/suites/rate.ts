/**
 * Suite 2: keyed rate-limit decisions — the per-tenant check at the top of a request
 * handler. A pre-generated stream of 1M keys drawn uniformly from 10k tenants; each
 * contender decides every request on a fresh limiter (one sample = the whole stream).
 *
 * Policy for every contender: a burst of 90 per key, refilled at 90 per minute (fixed
 * 60 s window for rate-limiter-flexible). Each key sees ~100 requests per sample
 * (Poisson-ish around 100), so ~88% are allowed and ~12% limited; refill during a sample
 * is at most a few tokens per key. The allowed share of each contender is checked and shown.
 *
 * Memory: bytes per key = (heap after inserting 100k distinct keys − heap before) / 100k,
 * both after a forced full GC, median of 3.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimiter } from 'limiter';
import { isPromise } from '../../src/core/index.js';
import { KeyedRateLimiter } from '../../src/rate/index.js';
import type { RatePolicyInput } from '../../src/rate/index.js';
import { canCollect, collect } from '../lib/gc.js';
import { judge } from '../lib/goals.js';
import { measure } from '../lib/harness.js';
import type { Contender } from '../lib/harness.js';
import { distinctKeys, uniformStream } from '../lib/keys.js';
import { median } from '../lib/stats.js';
import type { Suite, SuiteContext, SuiteResult } from '../lib/suite.js';
import { fmtOps, fmtRatio, resultsTable } from '../lib/table.js';
import type { Table } from '../lib/table.js';
import { TokenBucketMap } from '../lib/token-buckets.js';

const BURST = 90;
const PER_MS = 60_000;
const SEED = 0x5eed;

interface Decider {
  /** One decision; a promise for peers that only answer asynchronously. */
  readonly decide: ((key: string) => boolean) | undefined;
  readonly decideAsync: ((key: string) => Promise<boolean>) | undefined;
  /** Keys the limiter holds. */
  size(): number;
  /** Release what outlives the sample (timers). */
  dispose?(keys: readonly string[]): Promise<void>;
}

interface Variant {
  readonly name: string;
  readonly vs?: string;
  readonly about: string;
  /** `maxKeys`: the most distinct keys this instance will see (sizes bounded stores). */
  create(maxKeys: number): Decider;
}

const sync = (decide: (key: string) => boolean, size: () => number): Decider => ({ decide, decideAsync: undefined, size });

function sluice(policy: RatePolicyInput) {
  return (maxKeys: number): Decider => {
    // Default maxKeys (100k) when it suffices; the memory probe needs room for all its keys.
    const lim = new KeyedRateLimiter({ policy, ...(maxKeys > 100_000 ? { maxKeys: 2 * maxKeys } : {}) });
    return sync(
      (key) => {
        const a = lim.admit({ key });
        if (isPromise(a)) throw new Error('the memory store answered asynchronously');
        return a.ok;
      },
      () => lim.store.size,
    );
  };
}

const variants: readonly Variant[] = [
  {
    name: 'sluice',
    about: "new KeyedRateLimiter({ policy: { algorithm: 'token-bucket', rate: 90, perMs: 60_000, burst: 90 } }).admit({ key }) — synchronous value API, default MemoryStore; permits are not released (rate permits hold no capacity)",
    create: sluice({ algorithm: 'token-bucket', rate: BURST, perMs: PER_MS, burst: BURST }),
  },
  {
    name: 'sluice gcra',
    about: "same, policy { algorithm: 'gcra', rate: 90, perMs: 60_000, burst: 90 }",
    create: sluice({ algorithm: 'gcra', rate: BURST, perMs: PER_MS, burst: BURST }),
  },
  {
    name: 'sluice sliding window',
    about: "same, policy { algorithm: 'sliding-window', limit: 90, windowMs: 60_000 }",
    create: sluice({ algorithm: 'sliding-window', limit: BURST, windowMs: PER_MS }),
  },
  {
    name: 'rate-limiter-flexible',
    vs: 'sluice',
    about:
      'new RateLimiterMemory({ points: 90, duration: 60 }); `await rl.consume(key, 1)` per request, resolve = allowed, reject (RateLimiterRes) = limited — awaited one by one, as a handler would; keys deleted after each sample to clear its per-key timers',
    create() {
      const rl = new RateLimiterMemory({ points: BURST, duration: PER_MS / 1000 });
      return {
        decide: undefined,
        decideAsync: (key) =>
          rl.consume(key, 1).then(
            () => true,
            (res: unknown) => {
              if (res instanceof Error) throw res;
              return false;
            },
          ),
        size: () => (rl as unknown as { _memoryStorage: { _storage: Map<string, unknown> } })._memoryStorage._storage.size,
        async dispose(keys) {
          await Promise.all(keys.map((k) => rl.delete(k)));
        },
      };
    },
  },
  {
    name: 'limiter',
    vs: 'sluice',
    about:
      "not keyed: a Map<string, RateLimiter>, a new RateLimiter({ tokensPerInterval: 90, interval: 'minute' }) created on a key's first request, then `.tryRemoveTokens(1)` (synchronous)",
    create() {
      const map = new Map<string, RateLimiter>();
      return sync(
        (key) => {
          let l = map.get(key);
          if (l === undefined) {
            l = new RateLimiter({ tokensPerInterval: BURST, interval: 'minute' });
            map.set(key, l);
          }
          return l.tryRemoveTokens(1);
        },
        () => map.size,
      );
    },
  },
  {
    name: 'floor',
    vs: 'sluice',
    about: 'hand-written Map of { tokens, last } token buckets (bench/lib/token-buckets.ts), performance.now() per decision',
    create() {
      const m = new TokenBucketMap(BURST, BURST / PER_MS);
      return sync(
        (key) => m.take(key),
        () => m.size,
      );
    },
  },
];

async function decideAll(d: Decider, stream: readonly string[]): Promise<number> {
  let allowed = 0;
  if (d.decide !== undefined) {
    const decide = d.decide;
    for (let i = 0; i < stream.length; i++) if (decide(stream[i]!)) allowed++;
  } else {
    const decide = d.decideAsync!;
    for (let i = 0; i < stream.length; i++) if (await decide(stream[i]!)) allowed++;
  }
  return allowed;
}

function contender(v: Variant, stream: readonly string[], keys: readonly string[]): Contender {
  let d: Decider | undefined;
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    setup() {
      d = v.create(keys.length);
    },
    async run() {
      await decideAll(d!, stream);
      return stream.length;
    },
    async teardown() {
      await d!.dispose?.(keys);
      d = undefined;
    },
    async warmup() {
      const w = v.create(keys.length);
      await decideAll(w, stream.slice(0, stream.length / 10));
      await w.dispose?.(keys);
    },
    async verify() {
      const w = v.create(keys.length);
      const allowed = await decideAll(w, stream);
      const size = w.size();
      await w.dispose?.(keys);
      const share = allowed / stream.length;
      // Per key at most the burst plus what a slow sample could refill (< 1 minute: < BURST more).
      if (allowed > keys.length * 2 * BURST || size !== keys.length) {
        throw new Error(`${v.name}: allowed ${allowed} for ${keys.length} keys, holds ${size} keys`);
      }
      return `allowed ${(share * 100).toFixed(1)}% of ${stream.length.toLocaleString('en-US')}, holds ${size.toLocaleString('en-US')} keys`;
    },
  };
}

/** Heap per key after inserting n distinct keys (one allowed request each), median of `reps`. */
async function bytesPerKey(v: Variant, n: number, reps: number): Promise<number> {
  const keys = distinctKeys(n, 'mem-');
  const out: number[] = [];
  for (let r = 0; r < reps; r++) out.push(await heapDelta(v, keys));
  return median(out);
}

/**
 * One measurement in its own frame: a limiter held in a loop variable would stay reachable
 * from a stale interpreter register into the next iteration's baseline and cancel out.
 */
async function heapDelta(v: Variant, keys: readonly string[]): Promise<number> {
  collect();
  const before = process.memoryUsage().heapUsed;
  const d = v.create(keys.length);
  await decideAll(d, keys);
  collect();
  const after = process.memoryUsage().heapUsed;
  if (d.size() !== keys.length) throw new Error(`${v.name}: holds ${d.size()} keys, expected ${keys.length}`);
  await d.dispose?.(keys);
  return (after - before) / keys.length;
}

export const rateSuite: Suite = {
  id: 'rate',
  title: 'Keyed rate-limit decisions',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const decisions = ctx.quick ? 200_000 : 1_000_000;
    const tenants = ctx.quick ? 2_000 : 10_000;
    const keys = distinctKeys(tenants);
    const stream = uniformStream(keys, decisions, SEED);
    const rows = await measure(
      variants.map((v) => contender(v, stream, keys)),
      { rounds: ctx.rounds, warmup: ctx.warmup, warmupMs: ctx.warmupMs, forceGc: ctx.forceGc, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} decisions/s`) },
    );
    const goals = judge(
      [
        { sluice: 'sluice', peer: 'rate-limiter-flexible', min: 10 },
        { sluice: 'sluice', peer: 'limiter', min: 1 },
        { sluice: 'sluice', peer: 'floor', min: 0.8 },
      ],
      rows,
    );
    const memKeys = ctx.quick ? 20_000 : 100_000;
    const memory: { name: string; bytes: number }[] = [];
    for (const v of variants) memory.push({ name: v.name, bytes: await bytesPerKey(v, memKeys, ctx.quick ? 1 : 3) });
    const sluiceBytes = memory[0]!.bytes;
    const memTable: Table = {
      title: `Memory: heap bytes per key after ${memKeys.toLocaleString('en-US')} distinct keys${canCollect() ? '' : ' (NO forced GC: figures unreliable)'}`,
      columns: ['contender', 'bytes/key', 'this ÷ sluice'],
      align: ['l', 'r', 'r'],
      rows: memory.map((m) => [m.name, m.bytes.toFixed(0), m.name === 'sluice' ? '—' : fmtRatio(m.bytes / sluiceBytes)]),
    };
    return {
      id: 'rate',
      title: this.title,
      workload: `${decisions.toLocaleString('en-US')} decisions over ${tenants.toLocaleString('en-US')} keys drawn uniformly (seeded PRNG, pre-generated; ~${Math.round(decisions / tenants)} requests per key); burst 90 per key refilled at 90/min; one sample = the whole stream on a fresh limiter`,
      unit: 'decisions',
      rows,
      goals,
      tables: [resultsTable('Throughput', 'decisions', rows), memTable],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), the median of per-round ratios; "sluice" is the token-bucket row.',
        'Keys are uniform, not zipf: every key is equally warm, which is the worst case for a bounded store (no hot set) and the same Map workload for everyone.',
        `rate-limiter-flexible answers with a promise only; its figure includes one await per decision (${fmtOps(rows.find((r) => r.name === 'rate-limiter-flexible')!.ops.median)} decisions/s), which is how it is used.`,
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
