/** Batch iteration over a channel: `for await (const batch of channel.batches(100))`. */
import { ClosedError } from '../core/errors.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { PutManyResult, PutResult, TakeContext } from './types.js';

interface BatchTaker<T> {
  take(max: number, ctx?: TakeContext): Promise<T[]>;
}

/** Each `next()` takes 1..max items; the iteration ends once the channel is closed and drained. Leaving the loop early leaves the channel open. */
export async function* channelBatches<T>(channel: BatchTaker<T>, max: number, signal: AbortSignal | undefined): AsyncGenerator<T[], undefined> {
  const ctx = signal === undefined ? undefined : { signal };
  for (;;) {
    let batch: T[];
    try {
      batch = await channel.take(max, ctx);
    } catch (err) {
      if (err instanceof ClosedError) return undefined;
      throw err;
    }
    yield batch;
  }
}

/** A count argument: an integer >= min, or InvalidArgumentError naming it. */
export function argInt(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidArgumentError(name, `an integer >= ${min}`, value);
  return value;
}

/**
 * `putMany`'s loop: offer each item without waiting; where the buffer is full, `put` it (which
 * blocks or rejects as the overflow says). A refusal is rethrown carrying `accepted` and
 * `dropped`: the counts of the items before the refused one.
 */
export async function putEach<T>(items: Iterable<T>, offer: (item: T) => PutResult | 'full', put: (item: T) => Promise<PutResult>): Promise<PutManyResult> {
  let accepted = 0;
  let dropped = 0;
  for (const item of items) {
    const r = offer(item);
    let result: PutResult;
    try {
      result = r === 'full' ? await put(item) : r;
    } catch (err) {
      if (typeof err === 'object' && err !== null) Object.assign(err, { accepted, dropped });
      throw err;
    }
    if (result === 'accepted') accepted++;
    else dropped++;
  }
  return { accepted, dropped };
}
