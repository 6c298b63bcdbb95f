/**
 * `npm run bench:redis-instances` — decision latency in an open loop at half the Redis
 * ceiling, the load issued by N processes at once (default 4), each with its own client and
 * store: N gateway instances sharing one Redis, the deployment the store exists for.
 *
 * bench:redis (bench/redis.ts) issues the whole rate from one process, whose own event loop
 * and round trips put a floor under the tail whatever the store does (its `noop` and
 * `tick-ping` rows, and "event loop late"). Here each process carries 1/N of the rate. On a
 * machine with fewer free cores than processes the processes contend for them instead, so
 * read both scripts' floors before either's p99; neither replaces the other.
 *
 * Contenders take turns in rotating order, all N processes running the same one at once:
 * sluice (the default RedisStore, GCRA), rate-limiter-flexible's RateLimiterRedis, tick-ping
 * (one PING per tick's decisions: the floor of one round trip per batch) and noop (no Redis:
 * the processes' own floor). Latencies of all processes are pooled per contender.
 *
 *   npm run bench:redis-instances                       4 processes, 4 rounds of 2 s, saved
 *   npm run bench:redis-instances -- --procs 2 --rounds 2 --ms 1000 --no-save
 *   npm run bench:redis-instances -- --rate 40000       this rate instead of half the ceiling
 *
 * Needs Redis (REDIS_URL, default 127.0.0.1:6379) and, for the ceiling, redis-benchmark.
 * Results: bench/results/redis-instances-<commit>-<calm|busy>.md (--label) and
 * redis-instances-latest.md.
 */
import { execSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { redis as redisService } from '../test/brokers/services.js';
import type { InstanceResult, InstanceRun } from './redis-instance-child.js';
import { gitRevision } from './lib/machine.js';
import { round1, round3 } from './lib/numbers.js';
import { evalshaStats, hasRedisBenchmark, oneDecisionCeiling, quantile } from './lib/redis-load.js';

const { values } = parseArgs({
  options: {
    procs: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '4' },
    ms: { type: 'string', default: '2000' },
    rate: { type: 'string' },
    label: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
  },
  strict: true,
});
function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected an integer >= 1, received ${JSON.stringify(raw)}`);
  return n;
}
const PROCS = positiveInt('procs', values.procs);
const ROUNDS = positiveInt('rounds', values.rounds);
const MS = positiveInt('ms', values.ms);
const KEYS = 1000;
const CONTENDERS = ['sluice', 'rlf', 'tick-ping', 'noop'];
const root = fileURLToPath(new URL('..', import.meta.url));
const load0 = loadavg();

const svc = await redisService();
if (!svc.up) {
  console.error(`!!! bench:redis-instances needs Redis at ${svc.url} (REDIS_URL): start redis-server`);
  process.exit(1);
}
const url = svc.url.includes('://') ? svc.url : `redis://${svc.url}`;
const info = new Redis(url);
const prefix = `bench-inst-${process.pid}:`;

let ceiling: number | undefined;
if (values.rate === undefined) {
  if (!hasRedisBenchmark()) throw new Error('redis-benchmark is not installed (apt-get install -y redis-tools): pass --rate');
  ceiling = await oneDecisionCeiling(url, info, prefix, KEYS, 16, 100_000);
  console.log(`redis-benchmark -c 50 -P 16, sluice script, 1 decision per call: ${ceiling} decisions/s`);
}
const rate = values.rate === undefined ? Math.round(ceiling! / 2) : positiveInt('rate', values.rate);

/** The children, each answering one message at a time. */
interface Instance {
  readonly child: ChildProcess;
  next(): Promise<unknown>;
}
function start(i: number): Instance {
  const child = fork(fileURLToPath(new URL('./redis-instance-child.ts', import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, REDIS_URL: url, SLUICE_BENCH_PREFIX: `${prefix}${i}:`, SLUICE_BENCH_KEYS: String(KEYS) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  child.on('message', (m) => (waiting.length > 0 ? waiting.shift()!(m) : inbox.push(m)));
  const died = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`instance ${i} exited (${code}) before answering`))));
  died.catch(() => undefined);
  return { child, next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : Promise.race([new Promise((r) => waiting.push(r)), died])) };
}
const instances = Array.from({ length: PROCS }, (_, i) => start(i));
const stopAll = (): void => {
  for (const x of instances) if (x.child.exitCode === null) x.child.kill('SIGKILL');
};
process.once('SIGINT', () => (stopAll(), process.exit(130)));
try {
  await Promise.all(instances.map((x) => x.next()));
  /** All instances run `name` at once, each at rate / PROCS. */
  const runAll = async (name: string, ms: number): Promise<InstanceResult[]> => {
    const msg: InstanceRun = { run: name, rate: rate / PROCS, ms };
    for (const x of instances) x.child.send(msg);
    return (await Promise.all(instances.map((x) => x.next()))).map((m) => (m as { result: InstanceResult }).result);
  };
  for (const name of CONTENDERS) await runAll(name, 500); // warm-up: connections, scripts, JIT
  const runs: Record<string, { results: InstanceResult[]; evalsha: number }[]> = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const name = CONTENDERS[(i + r) % CONTENDERS.length]!;
      const e0 = await evalshaStats(info);
      const results = await runAll(name, MS);
      const e1 = await evalshaStats(info);
      runs[name]!.push({ results, evalsha: e1.calls - e0.calls });
    }
  }
  const rows = CONTENDERS.map((name) => summarize(name, runs[name]!));
  for (const row of rows) console.log(`${row.contender.padEnd(9)} achieved ${row.achieved}/s  p50 ${row.p50} ms  p99 ${row.p99} ms (rounds ${row.roundP99.join(' ')})  p99.9 ${row.p999} ms  within 1 ms ${row.within1}%  p99 from schedule ${row.p99FromSchedule} ms  loop late p99 ${row.loopP99} ms (worst instance)  behind ${row.behind} ms  EVALSHA/decision ${row.callsPerDecision}`);
  const sluice = rows.find((x) => x.contender === 'sluice')!;
  const goal = `p99 <= 1 ms at ${ceiling === undefined ? '--rate' : 'half the ceiling'} (${rate}/s from ${PROCS} processes, ${round1(rate / PROCS)}/s each): p99 ${sluice.p99} ms (rounds ${sluice.roundP99.join(' ')}; ${sluice.within1}% within 1 ms), achieved ${sluice.achieved}/s — ${sluice.p99 <= 1 && sluice.achieved >= rate * 0.95 ? 'met' : 'missed'}`;
  console.log(`goal: ${goal}`);
  if (!values['no-save']) save(rows, goal);
} finally {
  for (const x of instances) if (x.child.connected) x.child.send({ close: true });
  await Promise.all(instances.map((x) => (x.child.exitCode !== null ? Promise.resolve() : new Promise((r) => x.child.once('exit', r)))));
  const keys = await info.keys(`${prefix}*`);
  if (keys.length > 0) await info.del(...keys);
  info.disconnect();
}

interface Row {
  contender: string;
  achieved: number;
  p50: number;
  p99: number;
  p999: number;
  roundP99: number[];
  within1: number;
  p99FromSchedule: number;
  loopP99: number;
  behind: number;
  callsPerDecision: number;
}
function summarize(contender: string, rs: { results: InstanceResult[]; evalsha: number }[]): Row {
  const all = rs.flatMap((r) => r.results);
  const sorted = (xs: number[][]): Float64Array => Float64Array.from(xs.flat()).sort();
  const lat = sorted(all.map((x) => x.lat));
  const n = all.reduce((t, x) => t + x.n, 0);
  // Rate per round: all instances' decisions over the longest instance's time, summed over rounds.
  const seconds = rs.reduce((t, r) => t + Math.max(...r.results.map((x) => x.seconds)), 0);
  return {
    contender,
    achieved: Math.round(n / seconds),
    p50: round3(quantile(lat, 0.5)),
    p99: round3(quantile(lat, 0.99)),
    p999: round3(quantile(lat, 0.999)),
    roundP99: rs.map((r) => round3(quantile(sorted(r.results.map((x) => x.lat)), 0.99))),
    within1: round1((100 * lat.filter((x) => x <= 1).length) / Math.max(1, lat.length)),
    p99FromSchedule: round3(quantile(sorted(all.map((x) => x.fromSchedule)), 0.99)),
    loopP99: round3(Math.max(...all.map((x) => x.loopP99Ms))),
    behind: round1(Math.max(...all.map((x) => x.behindMs))),
    callsPerDecision: round3(rs.reduce((t, r) => t + r.evalsha, 0) / Math.max(1, n)),
  };
}

function save(rows: Row[], goal: string): void {
  const commit = gitRevision((cmd) => execSync(cmd, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const md = [
    `# bench:redis-instances — ${new Date().toISOString()} (commit ${commit})`,
    '',
    `${cpus()[0]?.model} × ${cpus().length}, load ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at end; Node ${process.version}. ${PROCS} processes, each its own ioredis client (plain) and store, ${round1(rate / PROCS)} decisions/s each, ${rate}/s in all${ceiling === undefined ? ' (--rate)' : `: half of redis-benchmark's ${ceiling}/s (sluice's one-decision script, -P 16, 50 clients)`}; ${ROUNDS} rounds of ${MS} ms, contenders in rotating order; ${KEYS} keys per process.`,
    '',
    `Command: \`npm run bench:redis-instances -- ${process.argv.slice(2).join(' ')}\``,
    '',
    '| contender | achieved/s | p50 ms | p99 ms | p99 per round, ms | p99.9 ms | within 1 ms | p99 from schedule, ms | event loop late p99, worst process, ms | issuing behind, ms | EVALSHA calls / decision |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.contender} | ${r.achieved} | ${r.p50} | ${r.p99} | ${r.roundP99.join(' ')} | ${r.p999} | ${r.within1}% | ${r.p99FromSchedule} | ${r.loopP99} | ${r.behind} | ${r.callsPerDecision} |`),
    '',
    `- ${goal}`,
    '',
  ].join('\n');
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/redis-instances-latest.md`, md);
  if (values.label !== undefined) writeFileSync(`${root}bench/results/redis-instances-${commit}-${values.label}.md`, md);
  console.log(`saved bench/results/redis-instances-latest.md${values.label === undefined ? '' : ` and redis-instances-${commit}-${values.label}.md`}`);
}
