/**
 * `npx tsx bench/redis-inflight.ts [--callers=16] [--ms=2000] [--base=/path/to/checkout]` — how
 * sluice's script calls overlap in a closed loop: per call, its size (decisions), the calls
 * in flight when it was written, and over the run the share of time with 0, 1, 2+ calls in
 * flight (from this process's side: written, reply not yet handled). Patches ScriptCall.send
 * of the checkout it runs (its own, or --base's). Needs Redis (REDIS_URL, default 127.0.0.1:6379).
 */
import { Redis } from 'ioredis';
import type * as Rate from '../src/rate/index.js';
import type * as Store from '../src/redis/index.js';
import type * as Call from '../src/redis/script-call.js';
import { closedLoop, median } from './lib/redis-load.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const callers = Number(arg('callers') ?? 16);
const ms = Number(arg('ms') ?? 2000);
const root = arg('base') ?? new URL('..', import.meta.url).pathname;
const { RedisStore } = (await import(`${root}/src/redis/index.ts`)) as typeof Store;
const { KeyedRateLimiter } = (await import(`${root}/src/rate/index.ts`)) as typeof Rate;
const { ScriptCall } = (await import(`${root}/src/redis/script-call.ts`)) as typeof Call;

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const client = new Redis(url.includes('://') ? url : `redis://${url}`);
const info = new Redis(url.includes('://') ? url : `redis://${url}`);
const store = await RedisStore.connect({ client, keyPrefix: `inflight-${process.pid}:`, timeoutMs: 1000 });
const lim = new KeyedRateLimiter({ name: 'b', policy: { algorithm: 'gcra', rate: 1000, burst: 1000 }, store: store.rateStore('g') });
const decide = async (key: string): Promise<void> => {
  const a = await lim.admit({ key });
  if (!a.ok) throw new Error('refused');
};

let recording = false;
let inFlight = 0;
let last = 0;
const timeAt = [0, 0, 0, 0]; // ms with 0, 1, 2, 3+ in flight
const sizes: number[] = [];
const atSend: number[] = [0, 0, 0, 0]; // calls written with 0, 1, 2, 3+ already in flight
const mark = (): void => {
  const now = performance.now();
  if (recording) timeAt[Math.min(3, inFlight)]! += now - last;
  last = now;
};
const send = ScriptCall.prototype.send;
ScriptCall.prototype.send = function (args: (string | number)[]): Promise<unknown> {
  mark();
  if (recording) {
    sizes.push(Number(args[1]));
    atSend[Math.min(3, inFlight)]!++;
  }
  inFlight++;
  const p = send.call(this, args);
  const done = (): void => {
    mark();
    inFlight--;
  };
  p.then(done, done);
  return p;
};

await closedLoop(decide, callers, 500, 1000, info);
recording = true;
last = performance.now();
const run = await closedLoop(decide, callers, ms, 1000, info);
recording = false;
const total = timeAt.reduce((a, b) => a + b, 0);
const hist = new Map<number, number>();
for (const s of sizes) hist.set(s, (hist.get(s) ?? 0) + 1);
console.log(`${root}: callers ${callers}: ${Math.round(run.n / run.seconds)} decisions/s, ${sizes.length} calls, ${(run.n / sizes.length).toFixed(2)} decisions per call (median size ${median(sizes)})`);
console.log(`  time with 0 / 1 / 2 / 3+ calls in flight: ${timeAt.map((t) => `${((100 * t) / total).toFixed(1)}%`).join(' / ')}`);
console.log(`  calls written with 0 / 1 / 2 / 3+ already in flight: ${atSend.map((t) => `${((100 * t) / sizes.length).toFixed(1)}%`).join(' / ')}`);
console.log(`  sizes: ${[...hist.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([s, n]) => `${s}×${n}`).join(' ')}`);
console.log(`  client CPU ${run.cpuUs.toFixed(1)} µs/decision, Redis ${run.redisUs.toFixed(1)} µs/decision`);
await store.close();
client.disconnect();
info.disconnect();
