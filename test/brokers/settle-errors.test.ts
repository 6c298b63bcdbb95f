// A settlement the broker refuses or never answers (a lost connection, an SQS endpoint that went
// silent): the message is not settled and comes back by the broker's rules. Before, the consumer
// only counted it (`settleErrors`): nothing said which message, what was to be done, or why.
// `onSettleError(error, delivery, settlement)` says so. A source in memory: what is tested is
// the consumer's own bookkeeping, not a broker.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, DeliveryBase } from '../../src/brokers/index.js';
import type { BrokerSource, Delivery, Settlement } from '../../src/brokers/index.js';
import { until } from './services.js';

/** Every settlement rejects with an error naming it. */
class RefusedDelivery extends DeliveryBase {
  constructor(id: string) {
    super({ broker: 'sqs', source: 'mem', id, body: Buffer.from(id), headers: {}, attempt: 1 });
  }
  protected doAck(): Promise<void> {
    return Promise.reject(new Error(`ack of ${this.id}: no answer`));
  }
  protected doRetry(): Promise<void> {
    return Promise.reject(new Error(`retry of ${this.id}: no answer`));
  }
  protected doDeadLetter(): Promise<void> {
    return Promise.reject(new Error(`dead letter of ${this.id}: no answer`));
  }
}

/** Hands out `ids`, all at the first pull, then waits until the pull is aborted. */
function memorySource(ids: string[]): BrokerSource {
  let left = [...ids];
  return {
    name: 'memory',
    pull(_max: number, emit: (d: Delivery) => void, signal: AbortSignal): Promise<void> {
      const now = left;
      left = [];
      for (const id of now) emit(new RefusedDelivery(id));
      if (now.length > 0) return Promise.resolve();
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    lag: () => Promise.resolve(left.length),
    close: () => Promise.resolve(),
  };
}

type Told = [string, Settlement, string];

describe('BrokerConsumer: onSettleError names each settlement that failed', () => {
  it('an ack, a retry and a dead letter refused: each told with the delivery, what was to be done and the error; counted in settleErrors, none as done', async () => {
    const told: Told[] = [];
    const c = new BrokerConsumer(
      memorySource(['ok', 'fails', 'poison']),
      (d) => {
        if (d.id !== 'ok') throw new Error('handler failed');
      },
      {
        batch: 3,
        concurrency: 3,
        onFailure: { maxAttempts: 1 },
        onSettleError: (err, d, how) => told.push([d.id, how, (err as Error).message]),
      },
    );
    try {
      expect(await until(() => told.length === 3, 5000)).toBe(true);
    } finally {
      await c.stop();
    }
    // maxAttempts 1: both failures are dead-lettered.
    expect(told.sort()).toEqual([
      ['fails', 'dead-letter', 'dead letter of fails: no answer'],
      ['ok', 'ack', 'ack of ok: no answer'],
      ['poison', 'dead-letter', 'dead letter of poison: no answer'],
    ]);
    expect(c.stats()).toMatchObject({ received: 3, acked: 0, failed: 2, deadLettered: 0, settleErrors: 3, held: 0 });
  });

  it('a retry refused is told as a retry; a hook that throws changes nothing', async () => {
    const told: Told[] = [];
    const c = new BrokerConsumer(memorySource(['a']), () => Promise.reject(new Error('handler failed')), {
      onFailure: { maxAttempts: 3, baseDelayMs: 0 },
      onSettleError: (err, d, how) => {
        told.push([d.id, how, (err as Error).message]);
        throw new Error('the hook failed');
      },
    });
    try {
      expect(await until(() => told.length === 1, 5000)).toBe(true);
    } finally {
      await c.stop();
    }
    expect(told).toEqual([['a', 'retry', 'retry of a: no answer']]);
    expect(c.stats()).toMatchObject({ state: 'stopped', failed: 1, retried: 0, settleErrors: 1, held: 0 });
  });

  it('onSettleError must be a function', () => {
    expect(() => new BrokerConsumer(memorySource([]), () => undefined, { onSettleError: 'log' as never })).toThrow(/^onSettleError: expected a function, received "log"$/);
  });
});
