/**
 * Redis's own time per decision in the rate scripts (INFO commandstats: EVALSHA usec ÷
 * decisions), per algorithm, for a batch of 50 distinct keys per call and for the
 * one-operation script, next to rate-limiter-flexible's script. Nothing of the client is
 * measured: only what Redis spends running the script, which is what every decision behind
 * it in the connection waits for.
 *
 *   REDIS_URL=redis://127.0.0.1:<port> npx tsx bench/redis-script-cost.ts [--base=<checkout>] [--rounds=5] [--calls=4000]
 *
 * Prints the median and the minimum over rounds (on a busy host the fastest round is the
 * script's own cost most nearly) and, with --base, the ratios to base.
 *
 * Run it against a redis-server of your own (`redis-server --port <p> --save '' --appendonly no`):
 * it resets the server's command statistics (CONFIG RESETSTAT) before each cell. With --base,
 * that checkout's scripts (src/redis/rate-scripts.ts) run in the same rounds, alternating.
 * Every policy is wide (1,000/s, burst 1,000 over 1,000 keys, as bench:redis): every decision
 * is allowed and writes, the states exist after the warm-up.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import * as mine from '../src/redis/rate-scripts.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Number(arg('rounds') ?? 5);
const CALLS = Number(arg('calls') ?? 4000);
const BATCH = 50;
const KEYS = 1000;
const base = arg('base');
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const client = new Redis(url.includes('://') ? url : `redis://${url}`);

type Scripts = Pick<typeof mine, 'RATE_SCRIPT' | 'RATE_ONE_SCRIPT'>;
const sets: [string, Scripts][] = [['sluice', mine]];
if (base !== undefined) sets.push(['sluice-base', (await import(pathToFileURL(`${base}/src/redis/rate-scripts.ts`).href)) as Scripts]);

// rate-limiter-flexible 11's RateLimiterRedis script (its _incrTtlLuaScript), as bench:redis runs it.
const RLF = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX') local consumed = redis.call('incrby', KEYS[1], ARGV[1]) local ttl = redis.call('pttl', KEYS[1]) return {consumed, ttl}`;

const POLICIES = { g: ['g', '1000', '1000', '1000'], t: ['t', '1000', '1000', '1000'], s: ['s', '1000', '1000', '0'] } as const;

async function stat(): Promise<{ calls: number; usec: number }> {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await client.info('commandstats'));
  return m === null ? { calls: 0, usec: 0 } : { calls: Number(m[1]), usec: Number(m[2]) };
}

/** µs of Redis per decision for `calls` calls of `command` (EVALSHA args after the sha), `per` decisions each, 64 in flight. */
async function cell(sha: string, command: (i: number) => (string | number)[], per: number, calls: number): Promise<number> {
  await client.config('RESETSTAT');
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < calls) {
      const [numKeys, ...rest] = command(i++);
      await client.evalsha(sha, numKeys!, ...rest);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const s = await stat();
  return s.usec / (s.calls * per);
}

const prefix = `cost-${process.pid}:`;
const key = (set: string, algo: string, k: number): string => `${prefix}${set}:{t${k % KEYS}}:${algo}`;
const results: Record<string, number[]> = {};
const rlfSha = String(await client.script('LOAD', RLF));
const shas = await Promise.all(sets.map(async ([, s]) => [String(await client.script('LOAD', s.RATE_SCRIPT)), String(await client.script('LOAD', s.RATE_ONE_SCRIPT))] as const));
// Before the encoding argument (ARGV[2]), a batch's policies started at ARGV[2].
const head = sets.map(([, s]) => (s.RATE_SCRIPT.includes('local m = tonumber(ARGV[2])') ? [''] : ['', '']));

for (let r = -1; r < ROUNDS; r++) {
  const calls = r < 0 ? Math.ceil(KEYS / BATCH) * 4 : CALLS;
  for (let si = 0; si < sets.length; si++) {
    const j = r < 0 ? si : (si + r) % sets.length;
    const [name] = sets[j]!;
    const [batchSha, oneSha] = shas[j]!;
    for (const algo of ['g', 't', 's'] as const) {
      const pol = POLICIES[algo];
      const batch = await cell(batchSha, (i) => [BATCH, ...Array.from({ length: BATCH }, (_, x) => key(name, algo, i * BATCH + x)), ...head[j]!, 1, ...pol, 'c1:1:0'], BATCH, Math.ceil(calls / 4));
      const one = await cell(oneSha, (i) => [1, key(name, algo, i), ...pol, 'c', 1, 0], 1, calls);
      if (r >= 0) {
        (results[`${name} ${algo} batch of ${BATCH}`] ??= []).push(batch);
        (results[`${name} ${algo} one`] ??= []).push(one);
      }
    }
  }
  const rlf = await cell(rlfSha, (i) => [1, `${prefix}rlf:{t${i % KEYS}}`, 1, 1], 1, calls);
  if (r >= 0) (results['rlf one'] ??= []).push(rlf);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
// On a busy host a round is slowed by whatever else runs; the fastest round is the script's own cost most nearly.
console.log(`# Redis µs per decision (INFO commandstats EVALSHA usec ÷ decisions): median and minimum of ${ROUNDS} rounds; ${url}${base === undefined ? '' : `; base ${base}`}`);
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(28)} median ${median(xs).toFixed(2).padStart(6)} µs  min ${Math.min(...xs).toFixed(2).padStart(6)} µs   rounds ${xs.map((x) => x.toFixed(2)).join(' ')}`);
if (base !== undefined) {
  for (const n of Object.keys(results).filter((x) => x.startsWith('sluice '))) {
    const b = results[n.replace('sluice ', 'sluice-base ')]!;
    const xs = results[n]!;
    console.log(`${n.padEnd(28)} ÷ base ${median(xs.map((x, i) => x / b[i]!)).toFixed(2)} (median of the rounds' ratios), ${(Math.min(...xs) / Math.min(...b)).toFixed(2)} (minimum ÷ minimum)`);
  }
}
const keys = await client.keys(`${prefix}*`);
for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
client.disconnect();
