/**
 * `npm run bench:redis` — rate decisions per second through Redis, and their latency, next to
 * rate-limiter-flexible's RateLimiterRedis, in one run, on the same Redis and the same ioredis
 * client (auto-pipelining on), at 1, 16 and 256 concurrent callers; and the ceiling of this
 * Redis for a script of the same size, from redis-benchmark.
 *
 * Contenders (each a full limiter call, the limit never reached so every decision is the same):
 *   sluice        KeyedRateLimiter (GCRA) over RedisStore.rateStore: one EVALSHA per decision
 *   sluice-leased KeyedRateLimiter over RedisStore.leasedRateStore (batch 4): a script per 5 tokens
 *   rlf           RateLimiterRedis.consume (fixed window: its INCR + EXPIRE script per decision)
 * Keys: 1,000 tenants in turn. Each cell runs DURATION_MS after a warm-up; p50/p99 are of every
 * decision's time from call to answer. The ceiling: `redis-benchmark -c 50 -P 1|16 EVALSHA` of
 * sluice's own GCRA script (loaded first), on random keys.
 *
 *   npm run bench:redis              2 s per cell
 *   npm run bench:redis -- --quick   0.5 s per cell, not saved
 * Results: bench/results/redis-latest.{json,md}. Needs Redis (REDIS_URL, default 127.0.0.1:6379).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import { RATE_SCRIPTS } from '../src/redis/rate-scripts.js';
import { redis as redisService } from '../test/brokers/services.js';

const QUICK = process.argv.includes('--quick');
const DURATION_MS = QUICK ? 500 : 2000;
const WARMUP_MS = QUICK ? 200 : 500;
const CONCURRENCY = [1, 16, 256] as const;
const KEYS = 1000;
const root = fileURLToPath(new URL('..', import.meta.url));

const svc = await redisService();
if (!svc.up) {
  console.error(`!!! bench:redis needs Redis at ${svc.url} (REDIS_URL): start redis-server`);
  process.exit(1);
}

interface Cell {
  contender: string;
  concurrency: number;
  decisions: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Run `decide` from `concurrency` callers for `ms`; every decision timed. */
async function measure(decide: (key: string) => Promise<unknown>, concurrency: number, ms: number, record: boolean): Promise<{ n: number; seconds: number; lat: Float64Array }> {
  const lat: number[] = [];
  let n = 0;
  let k = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await decide(`t${k++ % KEYS}`);
        if (record) lat.push(performance.now() - s);
        n++;
      }
    }),
  );
  return { n, seconds: (performance.now() - t0) / 1000, lat: Float64Array.from(lat).sort() };
}

const client = new Redis(svc.url, { enableAutoPipelining: true, enableOfflineQueue: true });
const prefix = `bench-${process.pid}:`;
const store = await RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
const policy = { algorithm: 'gcra', rate: 1e9, burst: 1e9 } as const;
const contenders: Record<string, (key: string) => Promise<unknown>> = {};
{
  const lim = new KeyedRateLimiter({ name: 'bench', policy, store: store.rateStore('gcra') });
  contenders['sluice'] = async (key) => {
    const a = await lim.admit({ key });
    if (!a.ok) throw new Error('refused: the bench limit must never bind');
  };
  const leased = store.leasedRateStore('leased', { batch: 4 });
  const limL = new KeyedRateLimiter({ name: 'bench-leased', policy, store: leased });
  contenders['sluice-leased'] = async (key) => {
    const a = await limL.admit({ key });
    if (!a.ok) throw new Error('refused: the bench limit must never bind');
  };
  const rlf = new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}rlf`, points: 1e9, duration: 1 });
  contenders['rlf'] = (key) => rlf.consume(key, 1);
}

const cells: Cell[] = [];
for (const c of CONCURRENCY) {
  for (const [name, decide] of Object.entries(contenders)) {
    await measure(decide, c, WARMUP_MS, false);
    const r = await measure(decide, c, DURATION_MS, true);
    const cell = { contender: name, concurrency: c, decisions: r.n, perSec: Math.round(r.n / r.seconds), p50Ms: Number(quantile(r.lat, 0.5).toFixed(3)), p99Ms: Number(quantile(r.lat, 0.99).toFixed(3)) };
    cells.push(cell);
    console.log(`${name.padEnd(14)} c=${String(c).padEnd(4)} ${String(cell.perSec).padStart(7)}/s  p50 ${cell.p50Ms} ms  p99 ${cell.p99Ms} ms`);
  }
}

// The ceiling: redis-benchmark running sluice's GCRA script (EVALSHA, same text, same arguments).
interface Ceiling {
  pipeline: number;
  perSec: number;
  p50Ms: number | undefined;
}
const ceilings: Ceiling[] = [];
let ceilingNote = '';
if (spawnSync('sh', ['-c', 'command -v redis-benchmark'], { stdio: 'ignore' }).status === 0) {
  const sha = String(await client.script('LOAD', RATE_SCRIPTS.gcra));
  const u = new URL(svc.url.includes('://') ? svc.url : `redis://${svc.url}`);
  for (const pipeline of [1, 16]) {
    const out = execFileSync(
      'redis-benchmark',
      ['-h', u.hostname, '-p', u.port || '6379', '-c', '50', '-n', QUICK ? '20000' : '100000', '-P', String(pipeline), '-r', String(KEYS), '--csv', 'EVALSHA', sha, '1', `${prefix}rb:{__rand_int__}:gcra`, 'c', '1000000000', '1000', '1000000000', '1', '0'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    // --csv: a header line, then "test","rps","avg_latency_ms","min","p50","p95","p99","max".
    const row = out.trim().split('\n').at(-1)!.split(',').map((x) => x.replace(/"/g, ''));
    ceilings.push({ pipeline, perSec: Math.round(Number(row[1])), p50Ms: row[4] === undefined ? undefined : Number(row[4]) });
    console.log(`redis-benchmark EVALSHA (gcra script) -c 50 -P ${pipeline}: ${ceilings.at(-1)!.perSec}/s`);
  }
} else {
  ceilingNote = 'redis-benchmark is not installed (apt-get install -y redis-tools): no ceiling measured';
  console.warn(`\n!!! ${ceilingNote}\n`);
}

// Clean up the bench's keys.
for (const pattern of [`${prefix}*`]) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}
await store.close();
client.disconnect();

const at = (name: string, c: number): Cell => cells.find((x) => x.contender === name && x.concurrency === c)!;
const ratios = CONCURRENCY.map((c) => ({ concurrency: c, sluiceOverRlf: Number((at('sluice', c).perSec / at('rlf', c).perSec).toFixed(2)), leasedOverRlf: Number((at('sluice-leased', c).perSec / at('rlf', c).perSec).toFixed(2)) }));
const best = Math.max(...cells.filter((x) => x.contender === 'sluice').map((x) => x.perSec));
const pipelinedCeiling = ceilings.find((x) => x.pipeline === 16)?.perSec;
const goals = [
  `>= 2x rate-limiter-flexible's throughput: ${ratios.map((r) => `c=${r.concurrency} ${r.sluiceOverRlf}x`).join(', ')} — ${ratios.every((r) => r.sluiceOverRlf >= 2) ? 'met' : 'missed'}`,
  pipelinedCeiling === undefined ? 'ceiling: not measured' : `>= 50% of the redis-benchmark ceiling with pipelining: best ${best}/s of ${pipelinedCeiling}/s = ${((100 * best) / pipelinedCeiling).toFixed(0)}% — ${best >= pipelinedCeiling / 2 ? 'met' : 'missed'}`,
];
let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
} catch {
  commit = 'unknown';
}
const rlfVersion = (JSON.parse(readFileSync(`${root}node_modules/rate-limiter-flexible/package.json`, 'utf8')) as { version: string }).version;
const ioredisVersion = (JSON.parse(readFileSync(`${root}node_modules/ioredis/package.json`, 'utf8')) as { version: string }).version;
const redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', svc.url.includes('://') ? svc.url : `redis://${svc.url}`, 'info', 'server'], { encoding: 'utf8' }))?.[1];
const result = {
  at: new Date().toISOString(),
  commit,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))) },
  node: process.version,
  redis: redisVersion,
  peers: { 'rate-limiter-flexible': rlfVersion, ioredis: ioredisVersion },
  durationMs: DURATION_MS,
  keys: KEYS,
  cells,
  ratios,
  ceilings,
  ceilingNote,
  goals,
};
console.log('\nratios (decisions/s over rate-limiter-flexible):', ratios);
for (const g of goals) console.log(`goal: ${g}`);

if (!QUICK) {
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/redis-latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# bench:redis — ${result.at} (commit ${commit})`,
    '',
    `${result.machine.cpu} × ${result.machine.cores}, load ${result.machine.loadavg.join(' ')}; Node ${result.node}; Redis ${redisVersion}; ioredis ${ioredisVersion} (auto-pipelining, one client shared by all); rate-limiter-flexible ${rlfVersion}. ${DURATION_MS} ms per cell, ${KEYS} keys.`,
    '',
    '| contender | callers | decisions/s | p50 ms | p99 ms | × rlf |',
    '|---|---:|---:|---:|---:|---:|',
    ...cells.map((x) => `| ${x.contender} | ${x.concurrency} | ${x.perSec} | ${x.p50Ms} | ${x.p99Ms} | ${(x.perSec / at('rlf', x.concurrency).perSec).toFixed(2)} |`),
    '',
    ceilings.length > 0 ? `Ceiling (redis-benchmark, EVALSHA of sluice's GCRA script, 50 clients): ${ceilings.map((c) => `-P ${c.pipeline}: ${c.perSec}/s`).join('; ')}.` : ceilingNote,
    '',
    ...goals.map((g) => `- ${g}`),
    '',
  ].join('\n');
  writeFileSync(`${root}bench/results/redis-latest.md`, md);
  console.log('saved bench/results/redis-latest.{json,md}');
}
