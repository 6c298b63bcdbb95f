// The rate scripts as ioredis commands on a test's own client, to call them with a time of the
// test's own (the store sends them through rate-batch.ts's ScriptCall and defines nothing on a
// client: a user's client handed in must not grow commands).
import type { Redis } from 'ioredis';
import { answerBatch, encodeBatch, encodeOne } from '../../src/redis/rate-batch.js';
import type { BatchOp } from '../../src/redis/rate-batch.js';
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

/** An operation's answer: its verdict byte, the reply and where its state is in it (-1: none), the script's time. */
export interface RateAnswer {
  verdict: number;
  reply: Buffer;
  at: number;
  now: number;
}

/**
 * One batch through the rate script — a batch of one through the one-operation script, as the
 * store sends it — at `now` instead of Redis TIME: each operation's answer, in order.
 */
export async function callRate(client: Redis, ops: BatchOp[], now: number): Promise<RateAnswer[]> {
  const c = rateCommands(client);
  let reply: Buffer;
  if (ops.length === 1) {
    reply = await c.one(ops[0]!.key, ...encodeOne(ops[0]!, now));
  } else {
    const { keys, args } = encodeBatch(ops, now);
    reply = await c.batch(keys, args);
  }
  const answers: RateAnswer[] = [];
  answerBatch(
    ops.map((o) => ({ ...o, answer: (verdict: number, reply: Buffer, at: number, t: number) => answers.push({ verdict, reply, at, now: t }), fail: (err: unknown) => { throw err; } })),
    reply,
  );
  return answers;
}
