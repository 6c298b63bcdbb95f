// One "process" of the proofs (forked by proofs.test.ts): connects to Redis, waits for 'go',
// runs greedy callers until 'stop', reports what it admitted.
//   rate:        KeyedRateLimiter on a Redis store (per decision, or leased in batches); each caller
//                asks again as soon as its refusal's Retry-After has passed.
//   concurrency: a SharedConcurrencyGate; each caller holds its slot for one request to the
//                parent's upstream (which counts in-flight requests, independently of sluice).
import { request } from 'node:http';
import { KeyedRateLimiter } from '../../src/rate/index.js';
import type { RateStore } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';

interface Args {
  readonly mode: 'rate' | 'rate-leased' | 'concurrency';
  readonly url: string;
  readonly prefix: string;
  readonly name: string;
  readonly callers: number;
  readonly upstream?: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
const send = (m: unknown): void => void process.send!(m);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hit(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
}

const redis = await RedisStore.connect({ url: args.url, keyPrefix: args.prefix, timeoutMs: 2000 });
let stopping = false;
let admitted = 0;
let refused = 0;
/** When each rate decision was asked for (epoch ms): the test replays them through an ideal limiter. */
const asks: number[] = [];
let rateStore: RateStore | undefined;
let run: () => Promise<void>;

if (args.mode === 'concurrency') {
  const gate = redis.concurrency({ name: args.name, limit: 20, maxQueue: 1000, leaseTtlMs: 1000, pollMs: 5 });
  run = async () => {
    while (!stopping) {
      const p = await gate.acquire();
      admitted++;
      await hit(args.upstream!);
      p.release();
    }
  };
} else {
  rateStore = args.mode === 'rate' ? redis.rateStore(args.name) : redis.leasedRateStore(args.name, { batch: 4, holdMs: 50 });
  const limiter = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1000, burst: 50 }, store: rateStore });
  run = async () => {
    while (!stopping) {
      asks.push(performance.timeOrigin + performance.now());
      const a = await limiter.admit({ key: 'shared' });
      if (a.ok) admitted++;
      else {
        refused++;
        await sleep(Math.max(0, Math.ceil(a.retryAfterMs)));
      }
    }
  };
}

process.on('message', (m: { t: string }) => {
  if (m.t === 'go') {
    const callers = Array.from({ length: args.callers }, () => run());
    void Promise.all(callers).then(async () => {
      if (rateStore !== undefined && 'close' in rateStore) (rateStore as { close(): void }).close();
      const stats = rateStore !== undefined && 'stats' in rateStore ? (rateStore as { stats(): unknown }).stats() : undefined;
      // The report carries every ask's time (hundreds of kB): disconnecting before the channel
      // has written it loses it, and the test waits for a 'done' that never comes.
      await new Promise<void>((resolve) => process.send!({ t: 'done', admitted, refused, asks, guard: redis.guard.stats(), stats }, () => resolve()));
      await redis.close();
      process.disconnect();
    });
  } else if (m.t === 'stop') {
    stopping = true;
  }
});
send({ t: 'ready', pid: process.pid });
