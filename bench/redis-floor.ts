/**
 * `npx tsx bench/redis-floor.ts` (issue #11, the p99 goal): where the exact store's p99 goes in the
 * open loop at a rate (default 76,104/s: half the calm host's one-decision ceiling at -P 16,
 * bench/results/redis-30bd26c-calm-open.md), measured against floors in the same process, on
 * the same client, in the same rounds (rotating order):
 *
 *   sluice        KeyedRateLimiter over RedisStore.rateStore (GCRA 1,000/s burst 1,000, 1,000 keys in
 *                 turn: never binds), as bench:redis runs it
 *   tick-evalsha  the same batch script (RATE_SCRIPT) with the same arguments for the same number of
 *                 decisions, a tick's decisions (up to 64) in one ioredis `evalshaBuffer` on the same
 *                 client, each decision answered by the reply: no limiter, no store, no guard, no
 *                 answer parsed — sluice's Redis work and round trips without sluice's client code
 *   tick-ping     a tick's decisions (up to 64) answered by one PING: the round trip with no script
 *   noop          an already resolved promise: this process and harness alone
 *
 * The gap sluice − tick-evalsha (p99, same rounds) is sluice's client code; tick-evalsha −
 * tick-ping is the script's work in Redis; tick-ping − noop is the round trip on this host.
 * Per contender it also reads from Redis: EVALSHA µs per call and Redis's CPU per decision (INFO),
 * and with --mine (the server at REDIS_URL is this run's own) LATENCY events and SLOWLOG
 * entries over 1 ms (it sets latency-monitor-threshold 1 and slowlog-log-slower-than 1000 there).
 * Then the floor outside Node: redis-benchmark, one C client (-c 1, closed loop), running the
 * batch script with sluice's mean batch size, and PING: its p50/p99; and `redis-cli
 * --intrinsic-latency` (the longest this host kept a busy process off its core).
 *
 *   --rate=76104 --rounds=4 --ms=2000 --mine --label=calm   (--label saves bench/results/redisp99-floor-<commit>-<label>.md)
 *   --open=sluice,tick-evalsha   these contenders only
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { ratePolicy } from '../src/rate/policy.js';
import { RedisStore } from '../src/redis/index.js';
import { encodeBatch } from '../src/redis/rate-batch.js';
import { RATE_SCRIPT } from '../src/redis/rate-scripts.js';
import { redis as redisService } from '../test/brokers/services.js';
import { gitRevision } from './lib/machine.js';
import { round1, round3 } from './lib/numbers.js';
import { type Decide, deleteKeys, median, openLoop, quantile } from './lib/redis-load.js';
import { roundOrder } from './lib/redis-order.js';

const ALL = ['sluice', 'tick-evalsha', 'tick-ping', 'noop'];
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const positive = (name: string, dflt: number): number => {
  const v = flag(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`redis-floor: --${name} takes a positive integer; received ${JSON.stringify(v)}`);
  return n;
};
for (const a of process.argv.slice(2)) {
  if (!/^--(rate|rounds|ms|label|open)=|^--mine$/.test(a)) throw new Error(`redis-floor: unknown flag ${JSON.stringify(a)} (takes --rate= --rounds= --ms= --open= --label= --mine)`);
}
const RATE = positive('rate', 76_104);
const ROUNDS = positive('rounds', 4);
const MS = positive('ms', 2000);
const NAMES = flag('open')?.split(',') ?? ALL;
for (const n of NAMES) if (!ALL.includes(n)) throw new Error(`redis-floor: --open takes contenders among ${ALL.join(', ')}; received ${JSON.stringify(n)}`);
const MINE = process.argv.includes('--mine');
const KEYS = 1000;
const MAX = 64;

const svc = await redisService();
if (!svc.up) throw new Error(`redis-floor: needs Redis at ${svc.url} (REDIS_URL)`);
const url = svc.url.includes('://') ? svc.url : `redis://${svc.url}`;
const u = new URL(url);
const port = u.port || '6379';
const load0 = loadavg();
const info = new Redis(url);
const client = new Redis(url, { enableAutoPipelining: false });
const prefix = `floor-${process.pid}:`;
const store = await RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
const policy = ratePolicy({ algorithm: 'gcra', rate: 1000, burst: 1000 });
const lim = new KeyedRateLimiter({ name: 'bench', policy, store: store.rateStore('gcra') });
const sluice: Decide = async (key) => {
  const a = await lim.admit({ key });
  if (!a.ok) throw new Error('refused: the bench limit must never bind');
};

// tick-evalsha: keys of the same form and length as sluice's, another store name; the commands built once per batch
// size and start (1000 keys in turn), so the floor's own client work is the ioredis call alone.
const sha = String(await info.script('LOAD', RATE_SCRIPT));
const other = await RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
const otherRate = other.rateStore('gcrx') as unknown as { keyOf(key: string, p: typeof policy): string };
const stateKeys = Array.from({ length: KEYS }, (_, i) => otherRate.keyOf(`t${i}`, policy));
// Built before the rounds, so the floor's own client work per call is ioredis's alone: for each batch size, BASES
// commands on keys in turn from BASES starting points (each key ≈ rate / BASES / its batches' share: far below its limit).
const BASES = 16;
const commands = Array.from({ length: MAX + 1 }, (_, n) =>
  Array.from({ length: BASES }, (_, b) => {
    if (n < 2) return [];
    const ops = Array.from({ length: n }, (_, i) => ({ key: stateKeys[(b * MAX + i) % KEYS]!, op: 'c' as const, policy, x: 1, y: 0 }));
    const { keys, args } = encodeBatch(ops);
    // keyOf's keys carry the store's keyPrefix already, as the store sends them.
    return [sha, n, ...keys, ...args];
  }),
);
let nextBase = 0;
// A batch of one would go to the one-operation script in the store; here it goes as a batch of two's command.
const commandOf = (n: number): (string | number)[] => commands[Math.max(2, n)]![nextBase++ % BASES]!;
/** The batch forming this tick: its decisions so far and the promise they all get. */
let forming: { n: number; p: Promise<unknown> } | undefined;
const tickEvalsha: Decide = () => {
  if (forming === undefined || forming.n >= MAX) {
    const b: { n: number; p: Promise<unknown> } = { n: 0, p: Promise.resolve() };
    b.p = new Promise((resolve) =>
      process.nextTick(() => {
        if (forming === b) forming = undefined;
        resolve(client.callBuffer('evalsha', commandOf(b.n)));
      }),
    );
    forming = b;
  }
  forming.n++;
  return forming.p;
};
let pingPending: Promise<unknown> | undefined;
let pingN = 0;
const tickPing: Decide = () => {
  if (pingPending === undefined || pingN >= MAX) {
    pingN = 0;
    const p: Promise<unknown> = new Promise((resolve) =>
      process.nextTick(() => {
        if (pingPending === p) pingPending = undefined;
        resolve(client.ping());
      }),
    );
    pingPending = p;
  }
  pingN++;
  return pingPending;
};
const noop: Decide = () => Promise.resolve();
const decide: Record<string, Decide> = { sluice, 'tick-evalsha': tickEvalsha, 'tick-ping': tickPing, noop };

/** Redis's own view of a stretch: EVALSHA calls and µs, its CPU seconds. */
async function serverStats(): Promise<{ calls: number; usec: number; cpu: number }> {
  const text = await info.info('all');
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(text);
  const cpu = ['used_cpu_sys', 'used_cpu_user'].reduce((t, k) => t + Number(new RegExp(`${k}:([\\d.]+)`).exec(text)?.[1] ?? 0), 0);
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0), cpu };
}
if (MINE) {
  await info.config('SET', 'latency-monitor-threshold', '1');
  await info.config('SET', 'slowlog-log-slower-than', '1000');
}

interface Round { lat: number[]; gcMsPerSecond: number; gcMaxMs: number; loopP99Ms: number; callsPerDecision: number; usPerCall: number; redisCpuUsPerDecision: number; cpuUs: number; latencyEvents: string; slow: number }
const runs: Record<string, Round[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
async function round(name: string, ms: number): Promise<Round> {
  if (MINE) {
    await info.call('LATENCY', 'RESET');
    await info.call('SLOWLOG', 'RESET');
  }
  const s0 = await serverStats();
  const r = await openLoop(decide[name]!, RATE, ms, KEYS, info);
  const s1 = await serverStats();
  let latencyEvents = '';
  let slow = 0;
  if (MINE) {
    const ev = (await info.call('LATENCY', 'LATEST')) as [string, number, number, number][];
    latencyEvents = ev.map(([e, , , max]) => `${e} ${max} ms`).join(', ');
    slow = Number(await info.call('SLOWLOG', 'LEN'));
  }
  const calls = s1.calls - s0.calls;
  return { lat: r.lat, gcMsPerSecond: r.gcMsPerSecond, gcMaxMs: r.gcMaxMs, loopP99Ms: r.loopP99Ms, callsPerDecision: calls / r.n, usPerCall: calls === 0 ? 0 : (s1.usec - s0.usec) / calls, redisCpuUsPerDecision: ((s1.cpu - s0.cpu) * 1e6) / r.n, cpuUs: r.cpuUs, latencyEvents, slow };
}
const p99 = (xs: number[]): number => quantile(Float64Array.from(xs).sort(), 0.99);
console.log(`== redis-floor at ${RATE}/s, ${ROUNDS} rounds of ${MS} ms, ${url}; load ${loadavg().map(round1).join(' ')}`);
for (const n of NAMES) await round(n, 500);
for (let r = 0; r < ROUNDS; r++) {
  for (const n of roundOrder(NAMES, r)) {
    const x = await round(n, MS);
    runs[n]!.push(x);
    console.log(`round ${r + 1} ${n.padEnd(12)} p50 ${round3(quantile(Float64Array.from(x.lat).sort(), 0.5))} p99 ${round3(p99(x.lat))} ms  loop late p99 ${round3(x.loopP99Ms)} ms  GC ${round1(x.gcMsPerSecond)} ms/s max ${round1(x.gcMaxMs)} ms  calls/decision ${round3(x.callsPerDecision)}  EVALSHA ${round1(x.usPerCall)} µs/call  Redis CPU ${round1(x.redisCpuUsPerDecision)} µs/decision  client CPU ${round1(x.cpuUs)} µs/decision${MINE ? `  slowlog>1ms ${x.slow}  latency ${x.latencyEvents || '-'}` : ''}`);
  }
}
const rows = NAMES.map((n) => {
  const rs = runs[n]!;
  const all = Float64Array.from(rs.flatMap((x) => x.lat)).sort();
  return { n, p50: round3(quantile(all, 0.5)), p90: round3(quantile(all, 0.9)), p99: round3(quantile(all, 0.99)), within: round3(all.filter((x) => x <= 1).length / all.length), rounds: rs.map((x) => round3(p99(x.lat))), loop: rs.map((x) => round3(x.loopP99Ms)), gc: round1(median(rs.map((x) => x.gcMsPerSecond))), gcMax: round1(Math.max(...rs.map((x) => x.gcMaxMs))), calls: round3(median(rs.map((x) => x.callsPerDecision))), usPerCall: round1(median(rs.map((x) => x.usPerCall))), redisCpu: round1(median(rs.map((x) => x.redisCpuUsPerDecision))), cpu: round1(median(rs.map((x) => x.cpuUs))), slow: rs.reduce((t, x) => t + x.slow, 0), events: rs.map((x) => x.latencyEvents).filter((e) => e !== '').join('; ') };
});
/** The median over rounds of a's round p99 minus b's in the same round. */
const gap = (a: string, b: string): string => (runs[a] && runs[b] ? String(round3(median(runs[a].map((x, r) => p99(x.lat) - p99(runs[b]![r]!.lat))))) : '');

// The floor outside Node: one C client, closed loop, the batch script at sluice's mean batch size, and PING.
const batchSize = Math.max(2, Math.min(MAX, Math.round(1 / Math.max(1e-9, rows.find((r) => r.n === 'sluice')?.calls ?? 1 / 40))));
const bench = (args: string[]): string => {
  const out = execFileSync('redis-benchmark', ['-h', u.hostname, '-p', port, '-c', '1', '-n', '20000', '-r', String(KEYS), '--csv', ...args], { encoding: 'utf8', timeout: 120_000 });
  const row = out.trim().split('\n').at(-1)!.split(',').map((x) => x.replace(/"/g, ''));
  return `${row[1]} calls/s, p50 ${row[4]} ms, p99 ${row[6]} ms, max ${row[7]} ms`;
};
const { args: batchArgs } = encodeBatch(Array.from({ length: batchSize }, (_, i) => ({ key: `k${i}`, op: 'c' as const, policy, x: 1, y: 0 })));
const rbBatch = bench(['EVALSHA', sha, String(batchSize), ...Array.from({ length: batchSize }, () => `${prefix}rb:{__rand_int__}:g`), ...batchArgs.map(String)]);
const rbPing = bench(['PING']);
const intrinsicOut = execFileSync('redis-cli', ['--intrinsic-latency', '3'], { encoding: 'utf8', timeout: 30_000 });
const intrinsic = `${[...intrinsicOut.matchAll(/Max latency so far: (\d+) microseconds/g)].at(-1)?.[1] ?? '?'} µs at most (${/avg latency: ([\d.]+) microseconds/.exec(intrinsicOut)?.[1] ?? '?'} µs per run on average)`;

await deleteKeys(info, prefix);
await store.close();
await other.close();
client.disconnect();
info.disconnect();

const commit = gitRevision((cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }));
const md = [
  `# redis-floor (issue #11 p99) — ${new Date().toISOString()} (commit ${commit})`,
  '',
  `Open loop at ${RATE}/s, ${ROUNDS} rounds of ${MS} ms, contenders in a rotating order, one ioredis client (plain), ${url}${MINE ? ' (this run\'s own server)' : ''}; load ${load0.map(round1).join(' ')} at start, ${loadavg().map(round1).join(' ')} at end. Command: \`npx tsx bench/redis-floor.ts ${process.argv.slice(2).join(' ')}\`.`,
  '',
  '| contender | p50 ms | p90 ms | p99 ms | p99 per round, ms | within 1 ms | loop late p99 per round, ms | GC ms/s | longest GC ms | EVALSHA calls / decision | EVALSHA µs / call | Redis CPU µs / decision | client CPU µs / decision | SLOWLOG > 1 ms | LATENCY events (max) |',
  '|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.n} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.rounds.join(' ')} | ${(100 * r.within).toFixed(1)}% | ${r.loop.join(' ')} | ${r.gc} | ${r.gcMax} | ${r.calls} | ${r.usPerCall} | ${r.redisCpu} | ${r.cpu} | ${MINE ? r.slow : 'n/a'} | ${MINE ? r.events || '-' : 'n/a'} |`),
  '',
  `Gaps, median over rounds of the round p99 difference (ms): sluice − tick-evalsha (sluice's client code) ${gap('sluice', 'tick-evalsha')}; tick-evalsha − tick-ping (the script in Redis) ${gap('tick-evalsha', 'tick-ping')}; tick-ping − noop (a round trip on this host) ${gap('tick-ping', 'noop')}.`,
  '',
  `Outside Node: redis-benchmark -c 1 (one C client, closed loop) running the batch script of ${batchSize} decisions: ${rbBatch}; PING: ${rbPing}. \`redis-cli --intrinsic-latency 3\`: ${intrinsic}`,
  '',
];
console.log(md.join('\n'));
const label = flag('label');
if (label !== undefined) {
  const file = `bench/results/redisp99-floor-${commit}-${label}.md`;
  writeFileSync(new URL(`../${file}`, import.meta.url), md.join('\n'));
  console.log(`saved ${file}`);
}
