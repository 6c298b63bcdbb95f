// A source of one's own whose close() rejects (a client that fails to disconnect): the consumer
// still ends — state `stopped` / `failed`, onStop told once — and a broker failure is still the
// error `done` rejects with. Before, a rejected close skipped both: the state stayed `stopping`
// for ever, onStop was never told, and `done` rejected with the close's error, not the broker's.
// A source in memory: what is tested is the consumer's own bookkeeping, not a broker.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';

/** Pulls wait for the abort, or fail with `failWith` (a broker failure) once it is called; close() rejects. */
function closeRejects(): BrokerSource & { fail(err: unknown): void } {
  let failNow: ((err: unknown) => void) | undefined;
  return {
    name: 'memory',
    pull(_max: number, _emit: unknown, signal: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        failNow = reject;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
    lag: () => Promise.resolve(0),
    close: () => Promise.reject(new Error('disconnect failed')),
    fail(err: unknown) {
      failNow?.(err);
    },
  };
}

describe('BrokerConsumer: a source whose close() rejects', () => {
  it('stop(): stop() resolves, done rejects with the close error, state failed, onStop told it once', async () => {
    const told: unknown[] = [];
    const c = new BrokerConsumer(closeRejects(), () => undefined, { onStop: (e) => told.push(e) });
    await new Promise((r) => setImmediate(r)); // the first pull is under way
    await c.stop();
    await expect(c.done).rejects.toThrow('disconnect failed');
    expect(c.stats().state).toBe('failed');
    expect(told).toHaveLength(1);
    expect((told[0] as Error).message).toBe('disconnect failed');
  });

  it('a broker failure: done rejects with it (not the close error), state failed, onStop told it', async () => {
    const told: unknown[] = [];
    const source = closeRejects();
    const c = new BrokerConsumer(source, () => undefined, { onStop: (e) => told.push(e) });
    await new Promise((r) => setImmediate(r));
    const lost = new BrokerUnavailableError('memory', new Error('connection reset'));
    source.fail(lost);
    await expect(c.done).rejects.toBe(lost);
    expect(c.stats().state).toBe('failed');
    expect(told).toEqual([lost]);
  });
});
