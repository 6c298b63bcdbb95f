/**
 * What a remote rate decision costs this process in garbage: bytes allocated per decision and
 * garbage-collection time per 1,000 decisions, for KeyedRateLimiter over RedisStore.rateStore
 * (GCRA, the bench:redis `sluice` contender) against the real Redis, in batches of `--batch`
 * decisions issued in one tick (what the open loop at 44,000/s issues per batch). Counts, not
 * latencies: they hold on a busy machine.
 *
 *   npx tsx bench/redis-alloc.ts [--n=20000] [--batch=64] [--rounds=5] [--keys=1000] [--base=<checkout>] [--profile] [--store=leased]
 *
 * `--store=leased`: the limiter's store is RedisStore.leasedRateStore (batch 4: the bench:redis
 * `sluice-leased` contender), most decisions answered from tokens held, not rateStore.
 *
 * Each figure comes from a child process (node --import tsx, this file with --child):
 *
 * - bytes: a 256 MB young generation, so no collection runs while `--n` decisions do;
 *   the heap's growth over them (after a full collection before) is exactly what they
 *   allocated on the heap (Buffers' contents, off the heap, are not counted). A round in
 *   which a collection ran anyway is reported and not counted.
 * - gc: Node's default heap; `--n` × 10 decisions, the pauses the `gc` performance entries
 *   report (scavenges and the rest), per 1,000 decisions; and what the scavenges kept (their
 *   survivors and promotions, v8.GCProfiler), per decision: the work a pause does, which the
 *   host's load does not change (the pause's length it does); and this process's CPU per decision.
 * - `--profile` (instead of the two above): a sampling heap profile (inspector HeapProfiler,
 *   every ~256 B on average) of `sluice`'s rounds alone: bytes per decision by allocating function.
 *
 * `noop` is the harness alone (a decision answered by an already settled promise): its
 * bytes are the harness's `.then` per decision, counted in every contender's figure. With
 * `--base`, that checkout's sources run as `sluice-base` in the same child, rounds
 * alternating: an A/B of a change in one run.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { Redis } from 'ioredis';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import { loadBase } from './lib/redis-flags.js';

const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const num = (name: string, d: number): number => {
  const v = flag(name);
  if (v === undefined) return d;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new Error(`bench/redis-alloc: --${name} takes a positive integer; received ${JSON.stringify(v)}`);
  return x;
};
const N = num('n', 20_000);
const BATCH = num('batch', 64);
const ROUNDS = num('rounds', 5);
const BASE = flag('base');
const PROFILE = process.argv.includes('--profile');
const CHILD = flag('child') as Mode | undefined;
type Mode = 'bytes' | 'gc' | 'profile';
const KEYS = num('keys', 1000);
const STORE = flag('store') ?? 'rate';
if (STORE !== 'rate' && STORE !== 'leased') throw new Error(`bench/redis-alloc: --store takes rate or leased; received ${JSON.stringify(STORE)}`);

interface Figures {
  contender: string;
  /** Per round: heap bytes per decision (bytes), or GC ms per 1,000 decisions (gc). */
  rounds: number[];
  /** gc: per round, bytes the scavenges kept (copied in the young generation, or promoted) per decision. */
  survived: number[];
  /** gc: per round, this process's CPU (user + system) per decision, µs. */
  cpu: number[];
  scavenges: number;
  skipped: number;
}

if (CHILD === undefined) parent();
else await child(CHILD);

function parent(): void {
  const script = fileURLToPath(import.meta.url);
  const run = (mode: Mode, v8flags: string[]): Figures[] => {
    const r = spawnSync(process.execPath, [...v8flags, '--expose-gc', '--import', 'tsx', script, `--child=${mode}`, ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
    if (r.status !== 0) throw new Error(`bench/redis-alloc: the ${mode} child failed (status ${r.status}): ${r.stdout}`);
    const lines = r.stdout.trim().split('\n');
    for (const l of lines.slice(0, -1)) console.log(l);
    return JSON.parse(lines.at(-1)!) as Figures[];
  };
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  console.log(`bench/redis-alloc: ${N} decisions per round, batches of ${BATCH}, ${ROUNDS} rounds, ${KEYS} keys, ${STORE === 'leased' ? 'leasedRateStore (batch 4)' : 'rateStore'} (median of rounds; noop = the harness alone)`);
  if (PROFILE) {
    run('profile', ['--min-semi-space-size=256', '--max-semi-space-size=256']);
    return;
  }
  const bytes = run('bytes', ['--min-semi-space-size=256', '--max-semi-space-size=256']);
  const gc = run('gc', []);
  const floor = med(bytes.find((f) => f.contender === 'noop')!.rounds);
  for (const b of bytes) {
    const g = gc.find((f) => f.contender === b.contender)!;
    const own = b.contender === 'noop' ? '' : `, ${(med(b.rounds) - floor).toFixed(0)} B beyond the harness`;
    console.log(
      `${b.contender.padEnd(12)} heap ${med(b.rounds).toFixed(0)} B/decision (rounds ${b.rounds.map((x) => x.toFixed(0)).join(' ')}${b.skipped > 0 ? `; ${b.skipped} rounds with a GC not counted` : ''})${own}; ` +
        `GC ${med(g.rounds).toFixed(3)} ms per 1,000 decisions, least ${Math.min(...g.rounds).toFixed(3)} (rounds ${g.rounds.map((x) => x.toFixed(3)).join(' ')}), ${((1000 * g.scavenges) / (g.rounds.length * N * 10)).toFixed(2)} pauses per 1,000; scavenges kept ${med(g.survived).toFixed(1)} B per decision (rounds ${g.survived.map((x) => x.toFixed(1)).join(' ')}); CPU ${med(g.cpu).toFixed(2)} µs per decision, least ${Math.min(...g.cpu).toFixed(2)}`,
    );
  }
  const sl = bytes.find((f) => f.contender === 'sluice');
  const bs = bytes.find((f) => f.contender === 'sluice-base');
  if (sl !== undefined && bs !== undefined) {
    const gs = gc.find((f) => f.contender === 'sluice')!;
    const gb = gc.find((f) => f.contender === 'sluice-base')!;
    // GC ms move with how busy the host is (a pause waits for a core): the least round is the least disturbed.
    console.log(`sluice ÷ sluice-base: heap bytes ${(med(sl.rounds) / med(bs.rounds)).toFixed(2)}x (beyond the harness ${((med(sl.rounds) - floor) / (med(bs.rounds) - floor)).toFixed(2)}x), GC ms ${(med(gs.rounds) / med(gb.rounds)).toFixed(2)}x (least round ${(Math.min(...gs.rounds) / Math.min(...gb.rounds)).toFixed(2)}x), bytes kept by scavenges ${(med(gs.survived) / med(gb.survived)).toFixed(2)}x, CPU ${(med(gs.cpu) / med(gb.cpu)).toFixed(2)}x (least round ${(Math.min(...gs.cpu) / Math.min(...gb.cpu)).toFixed(2)}x)`);
  }
}

async function child(mode: Mode): Promise<void> {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url);
  const prefix = `alloc-${process.pid}:`;
  const policy = { algorithm: 'gcra', rate: 1000, burst: 1000 } as const;
  const stores: { close(): Promise<void> }[] = [];
  type Admit = (ctx: { key: string }) => unknown;
  const contenders: Record<string, Admit> = {};
  const store = await RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
  stores.push(store);
  const lim = new KeyedRateLimiter({ name: 'bench', policy, store: STORE === 'leased' ? store.leasedRateStore('leased', { batch: 4 }) : store.rateStore('gcra') });
  contenders['sluice'] = (ctx) => lim.admit(ctx);
  if (BASE !== undefined && mode !== 'profile') {
    const base = await loadBase(BASE);
    const bstore = await base.RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
    stores.push(bstore);
    const blim = new base.KeyedRateLimiter({ name: 'bench', policy, store: STORE === 'leased' ? bstore.leasedRateStore('leased-base', { batch: 4 }) : bstore.rateStore('gcra-base') });
    contenders['sluice-base'] = (ctx) => blim.admit(ctx);
  }
  const settled = Promise.resolve({ ok: true });
  if (mode !== 'profile') contenders['noop'] = () => settled;
  // The callers' contexts, made once: a caller's context is its own, not the limiter's garbage.
  const ctxs = Array.from({ length: KEYS }, (_, i) => ({ key: `t${i}` }));

  let pauses = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      pauses++;
      gcMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  // The entries arrive asynchronously: a turn of the event loop brings in those of the round.
  const drain = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

  /** `n` decisions of `admit`, `BATCH` issued per tick, each batch awaited before the next. */
  const run = async (admit: Admit, n: number): Promise<void> => {
    let k = 0;
    for (let done = 0; done < n; ) {
      const b = Math.min(BATCH, n - done);
      await new Promise<void>((resolve, reject) => {
        let left = b;
        const one = (a: unknown): void => {
          if ((a as { ok: boolean }).ok !== true) reject(new Error(`refused (${(a as { reason: string }).reason}): the bench limit must never bind`));
          else if (--left === 0) resolve();
        };
        for (let i = 0; i < b; i++) void Promise.resolve(admit(ctxs[k++ % KEYS]!)).then(one, reject);
      });
      done += b;
    }
  };

  const names = Object.keys(contenders);
  const out: Figures[] = names.map((contender) => ({ contender, rounds: [], survived: [], cpu: [], scavenges: 0, skipped: 0 }));
  for (const name of names) await run(contenders[name]!, 2_000); // warm-up: compiled, connected, keys in Redis
  let session: Session | undefined;
  if (mode === 'profile') {
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true } as object);
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order: whoever runs first in a round does not always do so.
    for (let j = 0; j < names.length; j++) {
      const i = (j + r) % names.length;
      const f = out[i]!;
      globalThis.gc!();
      await drain();
      const p0 = pauses;
      const g0 = gcMs;
      const n = mode === 'bytes' ? N : N * 10;
      const prof = mode === 'gc' ? new GCProfiler() : undefined;
      prof?.start();
      const h0 = getHeapStatistics();
      const c0 = process.cpuUsage();
      await run(contenders[names[i]!]!, n);
      const c1 = process.cpuUsage(c0);
      const h1 = getHeapStatistics();
      const gcs = prof?.stop();
      await drain();
      if (mode === 'gc') {
        f.rounds.push(((gcMs - g0) * 1000) / n);
        f.scavenges += pauses - p0;
        f.survived.push(scavenged(gcs!.statistics) / n);
        f.cpu.push((c1.user + c1.system) / n);
      } else if (pauses !== p0) {
        f.skipped++;
      } else {
        f.rounds.push((h1.used_heap_size - h0.used_heap_size) / n);
      }
    }
  }
  if (session !== undefined) {
    interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
    const by = new Map<string, number>();
    const walk = (node: Node): void => {
      const c = node.callFrame;
      const k = `${c.functionName || '(anonymous)'} ${c.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${c.lineNumber + 1}`;
      by.set(k, (by.get(k) ?? 0) + node.selfSize);
      for (const ch of node.children) walk(ch);
    };
    walk(profile.head);
    const n = ROUNDS * N;
    let total = 0;
    for (const v of by.values()) total += v;
    console.log(`sampled allocation of sluice's rounds: ~${(total / n).toFixed(0)} B per decision (the harness's .then included), by function:`);
    for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${(v / n).toFixed(1).padStart(7)}  ${k}`);
  }
  obs.disconnect();
  for (const s of stores) await s.close();
  client.disconnect();
  console.log(JSON.stringify(out));
}

interface GcStat {
  gcType: string;
  beforeGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
  afterGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
}

/**
 * What the scavenges of `stats` kept: the young generation's survivors (copied within it) and
 * what they promoted (the old spaces' growth across each). A scavenge's work is this copying,
 * so unlike its pause it does not depend on how busy the host is.
 */
function scavenged(stats: readonly GcStat[]): number {
  let total = 0;
  for (const g of stats) {
    if (g.gcType !== 'Scavenge') continue;
    const used = (side: GcStat['afterGC'], name: string): number => side.heapSpaceStatistics.find((x) => x.spaceName === name)?.spaceUsedSize ?? 0;
    total += used(g.afterGC, 'new_space');
    for (const old of ['old_space', 'large_object_space']) total += Math.max(0, used(g.afterGC, old) - used(g.beforeGC, old));
  }
  return total;
}
