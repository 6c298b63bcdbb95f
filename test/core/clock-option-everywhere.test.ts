// The `clock` option, checked at construction wherever it is taken, with core's one check
// (optClock): not a clock, or a clock whose now() does not read a finite number, is an
// InvalidOptionError naming the option. Before, the HTTP client, the streams operators, the
// broker lag monitor and producer throttle took any value and failed later (or computed NaN
// deadlines); no constructor read now() at all, so a NaN clock passed everywhere.
import { describe, expect, it } from 'vitest';
import { failure } from '../option-error.js';
import type { BrokerSource } from '../../src/brokers/index.js';
import { LagMonitor, ProducerThrottle } from '../../src/brokers/index.js';
import { createClient } from '../../src/http-client/index.js';
import { ConcurrencyGate, InvalidOptionError, VirtualClock } from '../../src/index.js';
import { JetstreamSource } from '../../src/jetstream/index.js';
import { OtelMetrics } from '../../src/otel/index.js';
import { RabbitmqSource } from '../../src/rabbitmq/index.js';
import { batch, timeout } from '../../src/streams/index.js';

const timers = new VirtualClock();
const reading = (value: unknown): VirtualClock => Object.assign(Object.create(timers) as VirtualClock, { now: () => value });
const lagSource = { name: 'q', lag: () => Promise.resolve(0) } as unknown as BrokerSource;

const takers: [string, string, (clock: unknown) => unknown][] = [
  ['ConcurrencyGate', 'clock', (clock) => new ConcurrencyGate({ limit: 1, clock: clock as never })],
  ['createClient', 'clock', (clock) => createClient({ clock: clock as never })],
  ['timeout()', 'clock', (clock) => timeout(10, { clock: clock as never })],
  ['batch()', 'clock', (clock) => batch(2, 10, { clock: clock as never })],
  ['LagMonitor', 'clock', (clock) => new LagMonitor(lagSource, { clock: clock as never })],
  ['ProducerThrottle', 'clock', (clock) => new ProducerThrottle({ read: () => 0, slowAt: 1, rejectAt: 2, clock: clock as never })],
  ['JetstreamSource', 'clock', (clock) => JetstreamSource.open({ servers: '127.0.0.1:1', stream: 's', consumer: 'c', clock: clock as never })],
  ['RabbitmqSource', 'clock', (clock) => RabbitmqSource.open({ url: 'amqp://127.0.0.1:1', queue: 'q', clock: clock as never })],
  ['OtelMetrics tenantLabel', 'tenantLabel.clock', (clock) => new OtelMetrics({ tenantLabel: { maxValues: 10, clock: clock as never } })],
];


describe('a clock option is checked where it is taken', () => {
  for (const [name, option, make] of takers) {
    it(`${name}: a non-clock, and a clock whose now() reads NaN, a string or Infinity`, async () => {
      for (const bad of [5, 'now', () => 1]) {
        const err = (await failure(() => make(bad))) as InvalidOptionError;
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect(err.option).toBe(option);
        expect(err.message).toMatch(new RegExp(`^${option.replace('.', '\\.')}: expected a Clock`));
      }
      for (const [value, shown] of [[NaN, 'NaN'], ['12', '"12"'], [Infinity, 'Infinity'], [undefined, 'undefined']] as const) {
        const err = (await failure(() => make(reading(value)))) as InvalidOptionError;
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect(err.option).toBe(option);
        expect(err.message).toBe(`${option}: expected a Clock whose now() reads a finite number of ms, received a Clock whose now() read ${shown}`);
      }
    });
  }

  it('a good clock still passes, and is used', () => {
    const clock = new VirtualClock(500);
    expect(new ConcurrencyGate({ limit: 1, clock }).clock).toBe(clock);
    expect(() => timeout(10, { clock })).not.toThrow();
    expect(() => new LagMonitor(lagSource, { clock })).not.toThrow();
  });
});
