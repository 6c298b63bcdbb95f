/**
 * `npm run bench:redis` — rate decisions per second through Redis, and their latency, next to
 * rate-limiter-flexible's RateLimiterRedis, in one run, on the same Redis and the same ioredis
 * client (auto-pipelining on), at 1, 16 and 256 concurrent callers; the ceiling of this Redis
 * from redis-benchmark; and latency in an open loop at half that ceiling.
 *
 * Contenders (each a full limiter call on GCRA 1,000/s burst 1,000 per key — rlf: 1,000
 * points per second — over 1,000 keys in turn, so no limit ever binds and every call writes):
 *   sluice         KeyedRateLimiter over RedisStore.rateStore: calls issued in one tick share
 *                  one script call (up to 64 decisions), each with its own exact answer
 *   sluice-single  the same with `batch: 1`: one script call per decision
 *   sluice-leased  KeyedRateLimiter over RedisStore.leasedRateStore (batch 4, refill ahead at 2 left): a script per
 *                  5 tokens, taken before a key's run out; closed and open loop (not beside --base)
 *   rlf            RateLimiterRedis.consume (fixed window: its SET NX + INCRBY + PTTL script per decision)
 *   ping           not a limiter: one PING per call on the same client, the floor of anything that
 *                  takes one round trip per decision (at 1 caller, the most any such limiter can
 *                  gain on rlf: "equal accuracy" rules out answering from local leases)
 *
 * The machine is shared, so contenders take turns: ROUNDS rounds, each running every
 * contender for CELL_MS in a rotating order; decisions/s is the median over rounds and a
 * ratio is the median of the rounds' ratios (both contenders of a ratio ran seconds apart).
 * Each cell also reports this process's CPU per decision and Redis's EVALSHA time per
 * decision (INFO commandstats: the whole server's, so other clients' scripts count too).
 *
 *   npm run bench:redis              9 rounds of 0.7 s per cell, open loop 4 rounds of 2 s; saved
 *   npm run bench:redis -- --quick   2 rounds of 0.3 s, not saved
 *   --callers=1,16                   the closed loop at these callers only (not saved)
 *   --open-only                      no closed loop (not saved)
 *   --rate=44326                     the open loop at this rate; no redis-benchmark ceiling (not saved)
 *   --open=sluice,noop               these open-loop contenders only (not saved)
 *   --clients=plain                  this ioredis setting only (not saved)
 *   --open-rounds=8 --open-ms=1000   the open loop's rounds and their length (not saved)
 *   --arrival=spread                 the open loop issues each decision from its own macrotask (setImmediate),
 *                                    as requests arriving in separate I/O callbacks, not a turn's together (not saved);
 *   --arrival=socket                 each decision from a real I/O callback: one byte from one of 128 loopback TCP clients
 *                                    to a server in this process, decided in its 'data' handler (not saved)
 *   --base=/path/to/checkout         also run that checkout's sluice (its src/) as sluice-base, same client, same rounds,
 *                                    back to back with sluice, each first in half the rounds (bench/lib/redis-order.ts);
 *                                    no sluice-single or sluice-leased then (each side's modules serve one contender)
 *   --own-redis                      a redis-server of the bench's own, its child, at its priority (bench/lib/own-redis.ts) (not saved)
 *   --label=busy                     save this run, whatever its flags, as redis-<commit>-<label>.{json,md}; --help: this text
 * Results: bench/results/redis-latest.{json,md}, the run before in redis-previous.{json,md}. Needs Redis (REDIS_URL, default 127.0.0.1:6379).
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import { RATE_SCRIPT } from '../src/redis/rate-scripts.js';
import { redis as redisService } from '../test/brokers/services.js';
import { gitRevision } from './lib/machine.js';
import { pct, round1, round2, round3 } from './lib/numbers.js';
import { startOwnRedis } from './lib/own-redis.js';
import { exitWithHelp, loadBase, parseFlags } from './lib/redis-flags.js';
import { abRatio, abRounds, mergeRuns, roundOrder } from './lib/redis-order.js';
import { type Decide, type Run, closedLoop, deleteKeys, hasRedisBenchmark, median, oneDecisionCeiling, openLoop, quantile, redisBenchmark, tickBatched } from './lib/redis-load.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 2 : 9;
const CELL_MS = QUICK ? 300 : 700;
const WARMUP_MS = QUICK ? 200 : 500;
const ALL_MODES = ['plain', 'auto-pipelining'] as const;
const ALL_OPEN = ['sluice', 'sluice-leased', 'rlf', 'tick-ping', 'noop'];
if (process.argv.includes('--help')) exitWithHelp(import.meta.url);
const flags = parseFlags(process.argv.slice(2));
const OPEN_MS = flags.openMs ?? (QUICK ? 1000 : 2000);
const OPEN_ROUNDS = flags.openRounds ?? (QUICK ? 2 : 4);
const CONCURRENCY: readonly number[] = flags.openOnly ? [] : (flags.callers ?? [1, 16, 256]);
// A partial run is for looking, not for the record (unless it is labelled).
const SAVE = !QUICK && !flags.partial;
const KEYS = 1000;
const root = fileURLToPath(new URL('..', import.meta.url));
const load0 = loadavg();
const svc = flags.ownRedis ? await startOwnRedis() : await redisService();
if (!svc.up) {
  console.error(`!!! bench:redis needs Redis at ${svc.url} (REDIS_URL): start redis-server`);
  process.exit(1);
}
const url = svc.url.includes('://') ? svc.url : `redis://${svc.url}`;

const info = new Redis(url);
const prefix = `bench-${process.pid}:`;
const policy = { algorithm: 'gcra', rate: 1000, burst: 1000 } as const;
const admitted = (lim: KeyedRateLimiter): Decide => async (key) => {
  const a = await lim.admit({ key });
  if (!a.ok) throw new Error(`refused (${a.reason}): the bench limit must never bind`);
};

/**
 * One ioredis client and the contenders on it. Two settings of the client: ioredis's auto-pipelining (commands of
 * one tick in one write, through a Pipeline object) and plain (each command written as it is issued).
 */
async function setup(mode: 'auto-pipelining' | 'plain'): Promise<{ contenders: Record<string, Decide>; rlf: RateLimiterRedis; close: () => Promise<void> }> {
  const client = new Redis(url, { enableAutoPipelining: mode === 'auto-pipelining', enableOfflineQueue: true });
  const p = `${prefix}${mode === 'plain' ? 'p' : 'a'}:`;
  const store = await RedisStore.connect({ client, keyPrefix: p, timeoutMs: 1000 });
  // With --base, no sluice-single or sluice-leased: each side's modules serve one contender alike
  // (an A/A within its rounds' quartiles: bench/results/redis-tail-cd1ab5b-busy.md).
  const single = base === undefined ? await RedisStore.connect({ client, keyPrefix: p, timeoutMs: 1000, batch: 1 }) : undefined;
  const rlf = new RateLimiterRedis({ storeClient: client, keyPrefix: `${p}rlf`, points: 1000, duration: 1 });
  const contenders: Record<string, Decide> = { sluice: admitted(new KeyedRateLimiter({ name: 'bench', policy, store: store.rateStore('gcra') })) };
  if (single !== undefined) {
    contenders['sluice-single'] = admitted(new KeyedRateLimiter({ name: 'bench', policy, store: single.rateStore('gcra1') }));
    contenders['sluice-leased'] = admitted(new KeyedRateLimiter({ name: 'bench', policy, store: store.leasedRateStore('leased', { batch: 4 }) }));
  }
  Object.assign(contenders, { rlf: (key: string) => rlf.consume(key, 1), ping: () => client.ping() });
  // --base: the same default store from another checkout's sources, on the same client, in the same rounds.
  const baseStore = base === undefined ? undefined : await base.RedisStore.connect({ client, keyPrefix: p, timeoutMs: 1000 });
  // 'gcrb': keys as long as sluice's ('gcra'), so neither side sends more bytes.
  if (base !== undefined && baseStore !== undefined) contenders['sluice-base'] = admitted(new base.KeyedRateLimiter({ name: 'bench', policy, store: baseStore.rateStore('gcrb') }));
  const close = async (): Promise<void> => {
    await baseStore?.close();
    await store.close();
    await single?.close();
    client.disconnect();
  };
  return { contenders, rlf, close };
}
// --base=<dir>: a checkout of another commit (its own node_modules link), for an A/B in one run.
const base = flags.base === undefined ? undefined : await loadBase(flags.base);
const MODES = flags.clients ?? ALL_MODES;
const setups = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await setup(m)] as const))) as Record<(typeof ALL_MODES)[number], Awaited<ReturnType<typeof setup>>>;
const names = Object.keys(setups[MODES[0]].contenders);
// With --base, an even number of rounds: sluice and sluice-base each run first in half of them (redis-order.ts).
const CLOSED_ROUNDS = abRounds(ROUNDS, names);

// 1. The ceiling: redis-benchmark (C, 50 clients) running sluice's script, one decision per
// call and a batch of 16 per call, and rlf's script, on random tenants.
type Ceiling = { what: string; pipeline: number; perSec: number };
const ceilings: Ceiling[] = [];
let ceilingNote = '';
if (flags.rate !== undefined) {
  ceilingNote = `no ceiling measured: the open loop ran at --rate=${flags.rate}`;
} else if (hasRedisBenchmark()) {
  const sha = String(await info.script('LOAD', RATE_SCRIPT));
  const rlfSha = String(await info.script('LOAD', (setups[MODES[0]].rlf as unknown as { _incrTtlLuaScript: string })._incrTtlLuaScript));
  const key = `${prefix}rb:{__rand_int__}:g`;
  const pol = ['1', 'g', '1000', '1000', '1000'];
  const n = QUICK ? 20_000 : 100_000;
  // One decision per call goes to the one-operation script, as the store sends a lone decision.
  for (const pipeline of [1, 16]) ceilings.push({ what: 'sluice script, 1 decision per call', pipeline, perSec: await oneDecisionCeiling(url, info, prefix, KEYS, pipeline, n) });
  const b16 = redisBenchmark(url, 16, n / 16, KEYS, ['EVALSHA', sha, '16', ...Array<string>(16).fill(key), '', '', ...pol, ...Array<string>(16).fill('c1:1:0')]);
  ceilings.push({ what: 'sluice script, 16 decisions per call', pipeline: 16, perSec: b16 * 16 });
  ceilings.push({ what: "rlf's script, 1 decision per call", pipeline: 16, perSec: redisBenchmark(url, 16, n, KEYS, ['EVALSHA', rlfSha, '1', `${prefix}rb:{__rand_int__}:r`, '1', '1']) });
  for (const c of ceilings) console.log(`redis-benchmark -c 50 -P ${c.pipeline}, ${c.what}: ${c.perSec} decisions/s`);
} else {
  ceilingNote = 'redis-benchmark is not installed (apt-get install -y redis-tools): no ceiling measured';
  console.warn(`\n!!! ${ceilingNote}\n`);
}

// 2. Closed loop: callers deciding back to back, contenders taking turns.
interface Cell {
  client: (typeof MODES)[number];
  contender: string;
  concurrency: number;
  perSec: number;
  rounds: number[];
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  cpuUsPerDecision: number;
  redisUsPerDecision: number;
}
const cells: Cell[] = [];
/** overSingle: the batched store over one script per decision (sluice ÷ sluice-single), median of the rounds' ratios; overBase: sluice ÷ sluice-base likewise (with --base). */
const ratios: { client: (typeof MODES)[number]; concurrency: number; overRlf: Record<string, number>; overSingle?: number | undefined; overBase?: number | undefined; overBaseByOrder?: { sluiceFirst: number; baseFirst: number; quartiles: number[] } | undefined }[] = [];
for (const mode of MODES) {
  const contenders = setups[mode].contenders;
  console.log(`client: ${mode}`);
  for (const c of CONCURRENCY) {
    for (const name of names) await closedLoop(contenders[name]!, c, WARMUP_MS, KEYS, info);
    const runs: Record<string, Run[]> = Object.fromEntries(names.map((x) => [x, []]));
    for (let r = 0; r < CLOSED_ROUNDS; r++) {
      const order = roundOrder(names, r, undefined, true); // the A/B pair as A B B A, half cells (redis-order.ts)
      const parts: Record<string, Run[]> = {};
      for (const name of order) (parts[name] ??= []).push(await closedLoop(contenders[name]!, c, CELL_MS / order.filter((x) => x === name).length, KEYS, info));
      for (const name of names) runs[name]!.push(mergeRuns(parts[name]!));
    }
    const perSec = (x: Run): number => x.n / x.seconds;
    for (const name of names) {
      const rs = runs[name]!;
      const lat = Float64Array.from(rs.flatMap((x) => x.lat)).sort();
      const cell: Cell = {
        client: mode,
        contender: name,
        concurrency: c,
        perSec: Math.round(median(rs.map(perSec))),
        rounds: rs.map((x) => Math.round(perSec(x))),
        p50Ms: round3(quantile(lat, 0.5)),
        p99Ms: round3(quantile(lat, 0.99)),
        p999Ms: round3(quantile(lat, 0.999)),
        cpuUsPerDecision: round1(median(rs.map((x) => x.cpuUs))),
        redisUsPerDecision: round1(median(rs.map((x) => x.redisUs))),
      };
      cells.push(cell);
      console.log(`${name.padEnd(14)} c=${String(c).padEnd(4)} ${String(cell.perSec).padStart(7)}/s  p50 ${cell.p50Ms} ms  p99 ${cell.p99Ms} ms  p99.9 ${cell.p999Ms} ms  client ${cell.cpuUsPerDecision} µs CPU/decision  Redis ${cell.redisUsPerDecision} µs/decision`);
    }
    const overRlf = Object.fromEntries(names.filter((x) => x !== 'rlf').map((x) => [x, round2(median(runs[x]!.map((run, r) => perSec(run) / perSec(runs['rlf']![r]!))))]));
    // What batching costs or gains against one script per decision, paired by round: at 1 caller
    // both send one script per decision, so this is what the batching layer costs a lone caller.
    const overSingle = runs['sluice-single'] === undefined ? undefined : round2(median(runs['sluice']!.map((run, r) => perSec(run) / perSec(runs['sluice-single']![r]!))));
    // The A/B: all rounds, and those where each side ran first (they agree when order does not matter).
    const ab = runs['sluice-base'] === undefined ? undefined : abRatio(runs['sluice']!.map(perSec), runs['sluice-base'].map(perSec));
    const overBase = ab === undefined ? undefined : round2(ab.all);
    const overBaseByOrder = ab === undefined ? undefined : { sluiceFirst: round2(ab.aFirst), baseFirst: round2(ab.bFirst), quartiles: [round2(ab.q1), round2(ab.q3)] };
    ratios.push({ client: mode, concurrency: c, overRlf, overSingle, overBase, overBaseByOrder });
    console.log(`  × rlf (median of ${CLOSED_ROUNDS} rounds): ${JSON.stringify(overRlf)}; sluice ÷ sluice-single: ${overSingle ?? '-'}${overBaseByOrder === undefined ? '' : `; sluice ÷ sluice-base: ${overBase} (rounds sluice ran first ${overBaseByOrder.sluiceFirst}, base first ${overBaseByOrder.baseFirst}; quartiles of rounds ${overBaseByOrder.quartiles.join('-')})`}`);
  }
}

// 3. Open loop at half the pipelined ceiling (one decision per call): latency at a load the
// store should carry comfortably.
const ceilingP16 = ceilings.find((x) => x.pipeline === 16 && x.what.startsWith('sluice script, 1'))?.perSec;
const openRate = flags.rate ?? Math.round((ceilingP16 ?? 20_000) / 2);
interface Open {
  client: (typeof MODES)[number];
  contender: string;
  rate: number;
  achievedPerSec: number;
  behindMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Each round's p99, ms. */
  roundP99Ms: number[];
  /** Share of decisions answered within 1 ms. */
  within1Ms: number;
  /** p99 from the moment each decision was due (the schedule), not from when the loop got to issue it, ms. */
  p99FromScheduleMs: number;
  /** How late the event loop ran a 1 ms timer (≈ the process's stalls): the worst round's p99, and the max, ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Each round's event-loop lateness p99, ms (beside roundP99Ms). */
  roundLoopP99Ms: number[];
  /** This process's GC pauses: ms per second (median of rounds), and the longest, ms. */
  gcMsPerSecond: number;
  gcMaxMs: number;
  /** EVALSHA calls per decision and Redis's µs in EVALSHA per decision (the whole server's), medians of rounds. */
  callsPerDecision: number;
  redisUsPerDecision: number;
  /** This process's CPU per decision (the harness's load too, alike for every contender: noop shows it). */
  cpuUsPerDecision: number;
}
// Besides the limiters, a floor in the same process, at the same rate, in the same rounds: `noop` (an already resolved
// promise: no Redis at all, only this harness and this process's event loop, whose stalls delay every answer). A limiter's
// p99 near noop's is this process's and this machine's, not the store's. (A PING per decision is no floor here: at this
// rate, one command per decision costs more than sluice's batches, and it falls behind.) `tick-ping` is the floor of
// sluice's shape: the decisions of one tick (up to 64) answered by one PING on the same client — one round trip per batch,
// with no script and no decision. With --base, no sluice-leased (setup makes none; redis-flags.ts refuses it).
const OPEN_NAMES = flags.open ?? (base === undefined ? ALL_OPEN : ['sluice', 'sluice-base', ...ALL_OPEN.slice(2)]);
const noop = (): Promise<void> => Promise.resolve();
const open: Open[] = [];
for (const mode of MODES) {
  const ping = setups[mode].contenders['ping']!;
  const perTick = tickBatched(() => ping(''), 64);
  const decide = (name: string): Decide => (name === 'noop' ? noop : name === 'tick-ping' ? perTick : setups[mode].contenders[name]!);
  const arrival = flags.arrival ?? 'tick';
  for (const name of OPEN_NAMES) await openLoop(decide(name), openRate, WARMUP_MS, KEYS, info, arrival);
  const runs: Record<string, Awaited<ReturnType<typeof openLoop>>[]> = Object.fromEntries(OPEN_NAMES.map((x) => [x, []]));
  // Rounds, the contenders in a rotating order (redis-order.ts): a stall of the machine hits one round, not one contender.
  for (let r = 0; r < abRounds(OPEN_ROUNDS, OPEN_NAMES); r++) {
    for (const name of roundOrder(OPEN_NAMES, r)) runs[name]!.push(await openLoop(decide(name), openRate, OPEN_MS, KEYS, info, arrival));
  }
  for (const name of OPEN_NAMES) {
    const rs = runs[name]!;
    const lat = Float64Array.from(rs.flatMap((x) => x.lat)).sort();
    const n = rs.reduce((t, x) => t + x.n, 0);
    const o: Open = {
      client: mode,
      contender: name,
      rate: openRate,
      achievedPerSec: Math.round(n / rs.reduce((t, x) => t + x.seconds, 0)),
      behindMs: round1(Math.max(...rs.map((x) => x.behindMs))),
      p50Ms: round3(quantile(lat, 0.5)),
      p90Ms: round3(quantile(lat, 0.9)),
      p99Ms: round3(quantile(lat, 0.99)),
      p999Ms: round3(quantile(lat, 0.999)),
      maxMs: round3(lat[lat.length - 1] ?? NaN),
      roundP99Ms: rs.map((x) => round3(quantile(Float64Array.from(x.lat).sort(), 0.99))),
      within1Ms: round3(lat.filter((x) => x <= 1).length / Math.max(1, lat.length)),
      p99FromScheduleMs: round3(quantile(Float64Array.from(rs.flatMap((x) => x.fromSchedule)).sort(), 0.99)),
      loopP99Ms: round3(Math.max(...rs.map((x) => x.loopP99Ms))),
      loopMaxMs: round3(Math.max(...rs.map((x) => x.loopMaxMs))),
      roundLoopP99Ms: rs.map((x) => round3(x.loopP99Ms)),
      gcMsPerSecond: round1(median(rs.map((x) => x.gcMsPerSecond))),
      gcMaxMs: round1(Math.max(...rs.map((x) => x.gcMaxMs))),
      callsPerDecision: round3(median(rs.map((x) => x.callsPerDecision))),
      redisUsPerDecision: round1(median(rs.map((x) => x.redisUs))),
      cpuUsPerDecision: round1(median(rs.map((x) => x.cpuUs))),
    };
    open.push(o);
    if (name === 'sluice-base') console.log(`open loop A/B: sluice p99 ÷ sluice-base p99 per round ${rs.map((x, r) => round2(quantile(Float64Array.from(runs['sluice']![r]!.lat).sort(), 0.99) / quantile(Float64Array.from(x.lat).sort(), 0.99))).join(' ')} (even rounds: sluice ran first)`);
    console.log(`open loop, ${mode}, ${name.padEnd(7)} at ${openRate}/s: achieved ${o.achievedPerSec}/s (issuing up to ${o.behindMs} ms behind)  p50 ${o.p50Ms} ms  p90 ${o.p90Ms} ms  p99 ${o.p99Ms} ms (rounds ${o.roundP99Ms.join(' ')})  p99.9 ${o.p999Ms} ms  max ${o.maxMs} ms  within 1 ms ${(100 * o.within1Ms).toFixed(1)}%  p99 from schedule ${o.p99FromScheduleMs} ms  event loop late p99 ${o.loopP99Ms} ms (rounds ${o.roundLoopP99Ms.join(' ')}), max ${o.loopMaxMs} ms  GC ${o.gcMsPerSecond} ms/s, max ${o.gcMaxMs} ms  EVALSHA ${o.callsPerDecision} calls and ${o.redisUsPerDecision} µs per decision  client ${o.cpuUsPerDecision} µs CPU/decision`);
  }
}

// Clean up the bench's keys.
await deleteKeys(info, prefix);
for (const mode of MODES) await setups[mode].close();
info.disconnect();

// Goals, with the store's default client (plain: the store batches its own decisions).
const best = Math.max(...cells.filter((x) => x.contender === 'sluice').map((x) => x.perSec));
const batchCeiling = ceilings.find((x) => x.what.startsWith('sluice script, 16'))?.perSec;
const openSluice = open.find((x) => x.client === 'plain' && x.contender === 'sluice');
const openOf = (name: string): Open | undefined => open.find((x) => x.client === 'plain' && x.contender === name);
const openNoop = openOf('noop');
const ratioLine = (mode: string): string => {
  const rs = ratios.filter((r) => r.client === mode);
  const met = rs.filter((r) => r.overRlf['sluice']! >= 2).map((r) => `c=${r.concurrency}`);
  const missed = rs.filter((r) => r.overRlf['sluice']! < 2).map((r) => `c=${r.concurrency}`);
  const floor = rs.map((r) => `c=${r.concurrency} ${r.overRlf['ping']}x`).join(', ');
  return `${mode} client: ${rs.map((r) => `c=${r.concurrency} ${r.overRlf['sluice']}x`).join(', ')} (${met.length > 0 ? `met at ${met.join(', ')}` : 'met nowhere'}${missed.length > 0 ? `; missed at ${missed.join(', ')}` : ''}; a bare PING per call, the floor of one round trip per decision: ${floor}${rs[0]?.overSingle === undefined ? '' : `; the batched store ÷ one script per decision (sluice-single), same rounds: ${rs.map((r) => `c=${r.concurrency} ${r.overSingle}x`).join(', ')}`}${rs[0]?.overBase === undefined ? '' : `; sluice ÷ sluice-base, same rounds: ${rs.map((r) => `c=${r.concurrency} ${r.overBase}x`).join(', ')}`})`;
};
const openTickPing = openOf('tick-ping');
const openLeased = openOf('sluice-leased');
const goals = [
  ratios.some((r) => r.overRlf['sluice'] !== undefined) ? `>= 2x rate-limiter-flexible's throughput on the same client: ${MODES.map(ratioLine).join('; ')}` : "2x rate-limiter-flexible: no closed loop in this run",
  ceilingP16 === undefined || cells.length === 0 ? 'ceiling: not measured, or no closed loop in this run' : `>= 50% of the redis-benchmark ceiling with pipelining: best ${best}/s of ${ceilingP16}/s (1 decision per call) = ${pct(best, ceilingP16)} — ${best >= ceilingP16 / 2 ? 'met' : 'missed'}${batchCeiling === undefined ? '' : `; of ${batchCeiling}/s (16 per call, what batching can reach) = ${pct(best, batchCeiling)}`}`,
  openSluice === undefined
    ? 'p99 <= 1 ms: sluice did not run in the open loop on the plain client in this run'
    : `p99 <= 1 ms at ${flags.rate === undefined ? 'half the ceiling' : '--rate'} (${openRate}/s, open loop, plain client): p99 ${openSluice.p99Ms} ms (p50 ${openSluice.p50Ms} ms, ${pct(openSluice.within1Ms, 1)} within 1 ms; issuing fell up to ${openSluice.behindMs} ms behind; the event loop itself ran late by ${openSluice.loopP99Ms} ms at p99, ${openSluice.loopMaxMs} ms at most; in the same rounds and process, no Redis at all (noop): p99 ${openNoop?.p99Ms} ms, ${openNoop?.p99FromScheduleMs} ms from schedule; one PING per tick (tick-ping): p99 ${openTickPing?.p99Ms} ms), achieved ${openSluice.achievedPerSec}/s — ${openSluice.p99Ms <= 1 && openSluice.achievedPerSec >= openRate * 0.95 ? 'met' : 'missed'}`,
  // The same goal with tokens leased (refill ahead): what it costs in accuracy is docs/redis.md's (Fewer round trips).
  ...(openLeased === undefined ? [] : [`p99 <= 1 ms with tokens leased (leasedRateStore batch 4, refill ahead at 2: up to 7 tokens per key held out of the other processes' reach, never more than rate·t + burst): p99 ${openLeased.p99Ms} ms (rounds ${openLeased.roundP99Ms.join(' ')}; p50 ${openLeased.p50Ms} ms, ${pct(openLeased.within1Ms, 1)} within 1 ms), achieved ${openLeased.achievedPerSec}/s — ${openLeased.p99Ms <= 1 && openLeased.achievedPerSec >= openRate * 0.95 ? 'met' : 'missed'}`]),
];
for (const g of goals) console.log(`goal: ${g}`);

// The commit, with +dirty when src/ has uncommitted changes: the figures are not that commit's.
const commit = gitRevision((cmd) => execSync(cmd, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
const version = (pkg: string): string => (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
const redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', url, 'info', 'server'], { encoding: 'utf8' }))?.[1];
const result = {
  at: new Date().toISOString(),
  commit,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavgStart: load0.map(round2), loadavgEnd: loadavg().map(round2) },
  node: process.version,
  redis: redisVersion,
  peers: { 'rate-limiter-flexible': version('rate-limiter-flexible'), ioredis: version('ioredis') },
  rounds: CLOSED_ROUNDS,
  cellMs: CELL_MS,
  keys: KEYS,
  ceilings,
  ceilingNote,
  cells,
  ratios,
  open,
  goals,
};
if (SAVE || flags.label !== undefined) {
  const md = [
    `# bench:redis — ${result.at} (commit ${commit})`,
    '',
    `${result.machine.cpu} × ${result.machine.cores}, load ${result.machine.loadavgStart.join(' ')} at start, ${result.machine.loadavgEnd.join(' ')} at end; Node ${result.node}; Redis ${redisVersion}; ioredis ${result.peers.ioredis} (${MODES.length === 2 ? 'two clients: plain and auto-pipelining' : `one client: ${MODES[0]}`}, each shared by all the contenders); rate-limiter-flexible ${result.peers['rate-limiter-flexible']}. ${cells.length === 0 ? 'No closed loop in this run' : `${CLOSED_ROUNDS} rounds × ${CELL_MS} ms per cell, contenders in turn${base === undefined ? '' : ' (sluice and sluice-base back to back, each first in half the rounds)'}`}; ${KEYS} keys.${flags.partial ? ` A partial run: ${process.argv.slice(2).join(' ')}.` : ''}`,
    '',
    ...(cells.length === 0 ? [] : ['| client | contender | callers | decisions/s (median) | rounds | p50 ms | p99 ms | p99.9 ms | client µs CPU / decision | Redis µs / decision | × rlf (median of rounds) |', '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|']),
    ...cells.map((x) => `| ${x.client} | ${x.contender} | ${x.concurrency} | ${x.perSec} | ${x.rounds.join(' ')} | ${x.p50Ms} | ${x.p99Ms} | ${x.p999Ms} | ${x.cpuUsPerDecision} | ${x.redisUsPerDecision} | ${x.contender === 'rlf' ? '1' : ratios.find((r) => r.client === x.client && r.concurrency === x.concurrency)!.overRlf[x.contender]} |`),
    '',
    ceilings.length > 0 ? `Ceiling (redis-benchmark, 50 clients): ${ceilings.map((c) => `${c.what}, -P ${c.pipeline}: ${c.perSec}/s`).join('; ')}.` : ceilingNote,
    '',
    `Open loop at ${openRate}/s (${flags.rate === undefined ? 'half the one-decision ceiling at -P 16' : '--rate'}${flags.arrival === 'spread' ? '; arrivals spread: each decision issued from its own macrotask (setImmediate)' : flags.arrival === 'socket' ? "; arrivals by socket: each decision one byte from one of 128 loopback TCP clients, decided in the server's 'data' handler" : ''}), ${OPEN_ROUNDS} rounds of ${OPEN_MS} ms, the contenders in a rotating order. The load is issued from this process's timers, so every figure includes this process's event loop: \`noop\` (an answer with no Redis at all) is that floor, measured the same way in the same rounds; \`tick-ping\` (the decisions of one tick answered by one PING) is the floor of one round trip per batch through this Redis on this host. "p99 ÷ tick-ping" is the median over rounds of the round's p99 over tick-ping's in the same round. Latency is from the call to the answer; "from schedule" counts from when the decision was due, so issuing late counts too.`,
    '',
    '| client | contender | achieved/s | issuing behind, ms | p50 ms | p90 ms | p99 ms | p99 per round, ms | p99 ÷ tick-ping | p99.9 ms | max ms | within 1 ms | p99 from schedule, ms | event loop late p99 per round, ms | event loop late max, ms | GC pauses, ms/s | longest GC, ms | EVALSHA calls / decision | Redis µs / decision | client µs CPU / decision |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...open.map((o) => `| ${o.client} | ${o.contender} | ${o.achievedPerSec} | ${o.behindMs} | ${o.p50Ms} | ${o.p90Ms} | ${o.p99Ms} | ${o.roundP99Ms.join(' ')} | ${overTickPing(o) ?? ''} | ${o.p999Ms} | ${o.maxMs} | ${pct(o.within1Ms, 1)} | ${o.p99FromScheduleMs} | ${o.roundLoopP99Ms.join(' ')} | ${o.loopMaxMs} | ${o.gcMsPerSecond} | ${o.gcMaxMs} | ${o.callsPerDecision} | ${o.redisUsPerDecision} | ${o.cpuUsPerDecision ?? ''} |`),
    '',
    ...goals.map((g) => `- ${g}`),
    '',
  ].join('\n');
  mkdirSync(`${root}bench/results`, { recursive: true });
  if (SAVE) {
    // The run before stays beside it: on a shared machine one run is not a figure.
    for (const ext of ['json', 'md']) if (existsSync(`${root}bench/results/redis-latest.${ext}`)) renameSync(`${root}bench/results/redis-latest.${ext}`, `${root}bench/results/redis-previous.${ext}`);
    writeFileSync(`${root}bench/results/redis-latest.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${root}bench/results/redis-latest.md`, md);
    console.log('saved bench/results/redis-latest.{json,md} (the run before: redis-previous.{json,md})');
  }
  if (flags.label !== undefined) {
    const base = `${root}bench/results/redis-${commit}-${flags.label}`;
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${base}.md`, md);
    console.log(`saved bench/results/redis-${commit}-${flags.label}.{json,md}`);
  }
}

/** The median over rounds of `o`'s p99 over tick-ping's p99 in the same round (same client). */
function overTickPing(o: Open): number | undefined {
  const floor = open.find((x) => x.client === o.client && x.contender === 'tick-ping');
  if (floor === undefined || o === floor) return undefined;
  return round2(median(o.roundP99Ms.map((p, r) => p / floor.roundP99Ms[r]!)));
}
