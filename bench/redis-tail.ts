/**
 * Diagnostic for bench:redis's open loop: where a sluice decision's latency goes. The same open
 * loop (bench/lib/redis-load.ts's shape) at `--rate`, with each script call timed at send and
 * at reply (a wrapper on ScriptCall.prototype.send) and GC pauses observed, so the slowest 1%
 * of decisions can be split into: waiting for their batch to be sent, the round trip, and the
 * time from the reply to their answer. It also counts the script calls written while another
 * was still waiting for its reply on the connection (batches are not held behind the one in
 * flight: Redis runs them in the order they arrive), overall and for the slowest 1 %'s batches.
 *
 *   npx tsx bench/redis-tail.ts [--rate=44326] [--ms=2000] [--rounds=3]
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import { ScriptCall } from '../src/redis/script-call.js';

const arg = (name: string, d: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const RATE = arg('rate', 44326);
const MS = arg('ms', 2000);
const ROUNDS = arg('rounds', 3);
const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** `ahead`: calls still waiting for their reply when this one was sent. */
interface Batch { size: number; sent: number; replied: number; ahead: number }
let outstanding = 0;
const batches: Batch[] = [];
const send = ScriptCall.prototype.send;
ScriptCall.prototype.send = function (this: ScriptCall, args: (string | number)[]): Promise<unknown> {
  const b: Batch = { size: Number(args[1]), sent: performance.now(), replied: NaN, ahead: outstanding++ };
  batches.push(b);
  return send.call(this, args).then(
    (v) => {
      b.replied = performance.now();
      outstanding--;
      return v;
    },
    (err: unknown) => {
      outstanding--;
      throw err;
    },
  );
};
const gcs: { start: number; dur: number }[] = [];
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcs.push({ start: e.startTime, dur: e.duration });
}).observe({ entryTypes: ['gc'] });

const client = new Redis(url);
const info = new Redis(url);
/** Redis's EVALSHA calls and µs so far (INFO commandstats: every client's). */
async function evalsha(): Promise<{ calls: number; usec: number }> {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await info.info('commandstats'));
  return m === null ? { calls: 0, usec: 0 } : { calls: Number(m[1]), usec: Number(m[2]) };
}
const store = await RedisStore.connect({ client, keyPrefix: `tail-${process.pid}:`, timeoutMs: 1000 });
const lim = new KeyedRateLimiter({ name: 'bench', policy: { algorithm: 'gcra', rate: 1000, burst: 1000 }, store: store.rateStore('gcra') });
let turn = 0;

async function round(): Promise<void> {
  batches.length = 0;
  gcs.length = 0;
  const issue: number[] = [];
  const done: number[] = [];
  const tickOf: number[] = [];
  const total = Math.floor((RATE * MS) / 1000);
  let issued = 0;
  let answered = 0;
  let ticks = 0;
  const e0 = await evalsha();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      ticks++;
      const due = Math.min(total, Math.floor(((performance.now() - t0) * RATE) / 1000));
      while (issued < due) {
        const i = issued++;
        issue[i] = performance.now();
        tickOf[i] = ticks;
        const a = (): void => {
          done[i] = performance.now();
          if (++answered === total) resolve();
        };
        void Promise.resolve(lim.admit({ key: `t${turn++ % 1000}` })).then(a, a);
      }
      if (issued < total) setTimeout(tick, 0);
    };
    tick();
  });
  loop.disable();
  const e1 = await evalsha();
  // Decision i is in the batch that holds the i-th operation (batches leave in issue order).
  const batchOf = new Int32Array(total);
  let k = 0;
  batches.forEach((b, j) => {
    for (let x = 0; x < b.size && k < total; x++) batchOf[k++] = j;
  });
  const lat = Array.from({ length: total }, (_, i) => done[i]! - issue[i]!);
  const order = lat.map((_, i) => i).sort((a, b) => lat[a]! - lat[b]!);
  const q = (p: number): number => lat[order[Math.floor(p * total)]!]!;
  const slow = order.slice(Math.floor(0.99 * total));
  const mean = (f: (i: number) => number, xs: number[]): number => xs.reduce((t, i) => t + f(i), 0) / xs.length;
  const toSend = (i: number): number => batches[batchOf[i]!]!.sent - issue[i]!;
  const rtt = (i: number): number => batches[batchOf[i]!]!.replied - batches[batchOf[i]!]!.sent;
  const after = (i: number): number => done[i]! - batches[batchOf[i]!]!.replied;
  const inGc = (i: number): boolean => gcs.some((g) => g.start < done[i]! && g.start + g.dur > issue[i]!);
  const sizes = batches.map((b) => b.size).sort((a, b) => a - b);
  const gcTotal = gcs.reduce((t, g) => t + g.dur, 0);
  const gcMax = Math.max(0, ...gcs.map((g) => g.dur));
  const all = order;
  const rtts = batches.map((b) => b.replied - b.sent).sort((a, b) => a - b);
  console.log(
    `${total} decisions, ${ticks} ticks, ${batches.length} script calls (size p50 ${sizes[sizes.length >> 1]}, max ${sizes.at(-1)}); p50 ${q(0.5).toFixed(3)} p90 ${q(0.9).toFixed(3)} p99 ${q(0.99).toFixed(3)} ms; loop late p99 ${(loop.percentile(99) / 1e6 - 1).toFixed(2)} ms\n` +
      `  call round trip (send→reply) p50 ${rtts[rtts.length >> 1]!.toFixed(3)} p99 ${rtts[Math.floor(0.99 * rtts.length)]!.toFixed(3)} max ${rtts.at(-1)!.toFixed(3)} ms; Redis ran each EVALSHA ${((e1.usec - e0.usec) / Math.max(1, e1.calls - e0.calls) / 1000).toFixed(3)} ms on average (INFO commandstats, every client's)\n` +
      `  all decisions, mean ms: to send ${mean(toSend, all).toFixed(3)}, round trip ${mean(rtt, all).toFixed(3)}, reply→answer ${mean(after, all).toFixed(3)}\n` +
      `  slowest 1%, mean ms:    to send ${mean(toSend, slow).toFixed(3)}, round trip ${mean(rtt, slow).toFixed(3)}, reply→answer ${mean(after, slow).toFixed(3)}; overlapping a GC: ${((100 * slow.filter(inGc).length) / slow.length).toFixed(0)}% (all: ${((100 * all.filter(inGc).length) / total).toFixed(0)}%)\n` +
      `  calls sent with another in flight: ${((100 * batches.filter((b) => b.ahead > 0).length) / batches.length).toFixed(0)}% (max ${Math.max(...batches.map((b) => b.ahead))} ahead); slowest 1%'s batches: ${((100 * slow.filter((i) => batches[batchOf[i]!]!.ahead > 0).length) / slow.length).toFixed(0)}% behind another\n` +
      `  GC: ${gcs.length} pauses, ${gcTotal.toFixed(1)} ms total (${((100 * gcTotal) / MS).toFixed(1)}% of the round), max ${gcMax.toFixed(2)} ms`,
  );
}
const ALLOC = process.argv.includes('--alloc');
let session: Session | undefined;
for (let r = 0; r < ROUNDS + 1; r++) {
  if (r === 0) console.log('warm-up:');
  if (r === 1 && ALLOC) {
    // Sample every allocation, the young generation's garbage included: what a decision allocates.
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true } as object);
  }
  await round();
}
if (session !== undefined) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
  interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
  const by = new Map<string, number>();
  let total = 0;
  const walk = (n: Node): void => {
    const f = n.callFrame;
    const k = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    by.set(k, (by.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const n = ROUNDS * Math.floor((RATE * MS) / 1000);
  console.log(`allocated ~${(total / n).toFixed(0)} B per decision (sampled), top sites:`);
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(v / n).toFixed(0).padStart(6)} B  ${k}`);
}
await store.close();
client.disconnect();
info.disconnect();
