/**
 * A lone caller's client CPU per remote decision (process.cpuUsage), this checkout's store
 * against another's (--base) in ONE process on one ioredis client: blocks of 1,000 sequential
 * consumes (GCRA 1,000/s burst 1,000 over 1,000 keys: every decision writes), the two
 * alternating, so the host's load drifts over both alike. bench:redis's closed loop at 1
 * caller reads CPU per cell, seconds apart, and has read differences of ±20 µs per decision
 * between identical code; this pairs them block by block.
 *
 *   REDIS_URL=redis://127.0.0.1:<port> npx tsx bench/redis-lone-cpu.ts --base=<checkout> [--blocks=40]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const base = arg('base');
if (base === undefined) throw new Error('bench/redis-lone-cpu.ts: --base=<checkout> is required');
const BLOCKS = Number(arg('blocks') ?? 40);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const client = new Redis(url.includes('://') ? url : `redis://${url}`);
const dirs = [fileURLToPath(new URL('..', import.meta.url)), base];
interface Side {
  store: { close(): Promise<void>; rateStore(name: string): { consume(key: string, policy: unknown, cost: number, now: number, maxDelayMs: number): Promise<unknown> } };
  policy: unknown;
}
const sides: Side[] = await Promise.all(
  dirs.map(async (d, k) => {
    const at = (rel: string): string => pathToFileURL(`${d.replace(/\/$/, '')}/${rel}`).href;
    const { RedisStore } = (await import(at('src/redis/index.ts'))) as { RedisStore: { connect(o: object): Promise<Side['store']> } };
    const { ratePolicy } = (await import(at('src/rate/index.ts'))) as { ratePolicy(p: object): unknown };
    const store = await RedisStore.connect({ client, keyPrefix: `lone-${process.pid}-${k}:`, timeoutMs: 1000 });
    return { store, policy: ratePolicy({ algorithm: 'gcra', rate: 1000, perMs: 1000, burst: 1000, name: 'b' }) };
  }),
);
const stores = sides.map((s) => s.store.rateStore('g'));
const total = [0, 0];
const ratios: number[] = [];
for (let r = 0; r < BLOCKS + 4; r++) {
  const us = [0, 0];
  for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 1000; i++) await stores[k]!.consume(`t${i}`, sides[k]!.policy, 1, 0, 0);
    const c = process.cpuUsage(c0);
    us[k] = c.user + c.system;
  }
  // The first 4 blocks warm up (JIT, keys created).
  if (r < 4) continue;
  total[0]! += us[0]!;
  total[1]! += us[1]!;
  ratios.push(us[0]! / us[1]!);
}
ratios.sort((a, b) => a - b);
console.log(`# client CPU µs per lone decision, ${BLOCKS} blocks of 1,000 each, alternating; ${url}; base ${base}`);
console.log(`sluice ${(total[0]! / BLOCKS / 1000).toFixed(1)}  sluice-base ${(total[1]! / BLOCKS / 1000).toFixed(1)}  sluice ÷ sluice-base: ${ratios[ratios.length >> 1]!.toFixed(3)} (median of the blocks' ratios)`);
for (const s of sides) await s.store.close();
client.disconnect();
