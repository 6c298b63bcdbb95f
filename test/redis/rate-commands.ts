// The rate scripts as ioredis commands on a test's own client, to call them with a time of the
// test's own (the store sends them through rate-batch.ts's ScriptCall and defines nothing on a
// client: a user's client handed in must not grow commands).
import type { Redis } from 'ioredis';
import { RATE_ONE_SCRIPT, RATE_SCRIPT } from '../../src/redis/rate-scripts.js';

export interface RateCommands {
  /** The one-operation script: KEYS[1], then its ARGV (rate-batch.ts encodeOne). */
  one(key: string, ...args: (string | number)[]): Promise<Buffer>;
  /** The batch script: its keys, then its ARGV (rate-batch.ts encodeBatch). */
  batch(keys: readonly string[], args: readonly (string | number)[]): Promise<Buffer>;
}

/** Define the two rate scripts on `client` (once per client) and call them, replies as Buffers. */
export function rateCommands(client: Redis): RateCommands {
  const c = client as unknown as Record<string, (...a: unknown[]) => Promise<Buffer>>;
  if (c.sluiceTestRateBuffer === undefined) {
    client.defineCommand('sluiceTestRate', { lua: RATE_SCRIPT });
    client.defineCommand('sluiceTestRate1', { numberOfKeys: 1, lua: RATE_ONE_SCRIPT });
  }
  return {
    one: (key, ...args) => c.sluiceTestRate1Buffer!(key, ...args),
    batch: (keys, args) => c.sluiceTestRateBuffer!(keys.length, keys, args),
  };
}
