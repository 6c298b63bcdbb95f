// Broker helpers exported beside the adapters' factories, given what they do not take: each
// throws the option-error template naming what is wrong, not a TypeError from inside
// ("Cannot read properties of undefined (reading 'lag')").
import { describe, expect, it } from 'vitest';
import { ConsumerScaling, desiredConsumers, ProducerThrottle } from '../../src/brokers/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { FetchBudget } from '../../src/kafka/index.js';

const loose = <T>(v: unknown): T => v as T;

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (err) {
    return err as Error;
  }
  throw new Error('taken without an error');
}

const input = { lag: 100, growthPerSec: 0, processedPerSec: 10, consumers: 1, drainSeconds: 10, min: 1, max: 10 };

describe('broker helpers name a bad argument', () => {
  it('desiredConsumers', () => {
    const none = thrown(() => desiredConsumers(loose(undefined)));
    expect(none).toBeInstanceOf(InvalidArgumentError);
    expect(none.message).toBe('input: expected an object of desiredConsumers() inputs (lag, growthPerSec, processedPerSec, consumers, drainSeconds, min, max), received undefined');
    expect(thrown(() => desiredConsumers(loose({ ...input, drainSeconds: '10' }))).message).toBe('input.drainSeconds: expected a number, received "10"');
    expect(desiredConsumers(input)).toBe(2);
  });
  it('new ConsumerScaling and new ProducerThrottle without their options', () => {
    for (const [make, owner] of [
      [() => new ConsumerScaling(loose(undefined)), 'ConsumerScaling'],
      [() => new ProducerThrottle(loose(undefined)), 'ProducerThrottle'],
    ] as const) {
      const err = thrown(make);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toBe(`options: expected an object of ${owner} options, received undefined`);
    }
  });
  it('new FetchBudget', () => {
    expect(thrown(() => new FetchBudget(loose(null), () => [])).message).toBe('options: expected an object of FetchBudget options, received null');
    expect(thrown(() => new FetchBudget(loose({ maxBytesPerPartition: 1, maxBytes: 1, initialRecordBytes: 1, adaptive: true }), loose(5))).message).toBe('rooms: expected a function returning the partitions\' free rooms, received 5');
    const missing = thrown(() => new FetchBudget(loose({ bogusKey: 1 }), () => []));
    expect(missing).toBeInstanceOf(InvalidOptionError);
  });
});
