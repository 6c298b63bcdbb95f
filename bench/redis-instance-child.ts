/**
 * One instance of `bench/redis-instances.ts`: a process with its own ioredis client (plain),
 * its own RedisStore and rate-limiter-flexible on it, as one gateway instance of many sharing
 * one Redis. It runs the open loop (bench/lib/redis-load.ts openLoop) when its parent says so,
 * at its share of the rate, and sends back every latency it measured.
 *
 * Messages in: { run: contender, rate, ms } and { close: true }. Out: { ready: true }, then one
 * { result } per run.
 */
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import type { Decide } from './lib/redis-load.js';
import { openLoop, tickBatched } from './lib/redis-load.js';

export interface InstanceRun {
  readonly run: string;
  readonly rate: number;
  readonly ms: number;
}

export interface InstanceResult {
  readonly n: number;
  readonly seconds: number;
  readonly lat: number[];
  readonly fromSchedule: number[];
  readonly behindMs: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly cpuUs: number;
}

const url = process.env['REDIS_URL']!;
const prefix = process.env['SLUICE_BENCH_PREFIX']!;
const keys = Number(process.env['SLUICE_BENCH_KEYS']);

const client = new Redis(url, { enableOfflineQueue: true });
const info = new Redis(url);
const store = await RedisStore.connect({ client, keyPrefix: prefix, timeoutMs: 1000 });
// The same policy and algorithm as bench/redis.ts: a limit that never binds, so every decision is a full one.
const policy = { algorithm: 'gcra', rate: 1000, burst: 1000 } as const;
const limiter = new KeyedRateLimiter({ name: 'bench', policy, store: store.rateStore('gcra') });
const rlf = new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}rlf`, points: 1000, duration: 1 });
const contenders: Record<string, Decide> = {
  sluice: async (key) => {
    const a = await limiter.admit({ key });
    if (!a.ok) throw new Error(`refused (${a.reason}): the bench limit must never bind`);
  },
  rlf: (key) => rlf.consume(key, 1),
  'tick-ping': tickBatched(() => client.ping(), 64),
  noop: () => Promise.resolve(),
};

process.on('message', (m: InstanceRun | { close: true }) => {
  if ('close' in m) {
    void store.close().then(() => {
      client.disconnect();
      info.disconnect();
      process.disconnect();
    });
    return;
  }
  const decide = contenders[m.run];
  if (decide === undefined) throw new Error(`unknown contender ${m.run}`);
  void openLoop(decide, m.rate, m.ms, keys, info).then((r) => {
    const result: InstanceResult = { n: r.n, seconds: r.seconds, lat: r.lat, fromSchedule: r.fromSchedule, behindMs: r.behindMs, loopP99Ms: r.loopP99Ms, loopMaxMs: r.loopMaxMs, cpuUs: r.cpuUs };
    process.send!({ result });
  });
});
process.send!({ ready: true });
