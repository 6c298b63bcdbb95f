/**
 * A broker source as a Publisher of the streams layer: each pull asks the broker for exactly
 * the demand outstanding (`emitter.demand`), so the subscriber's `request(n)` is the only
 * thing that takes messages off the broker. One subscription (a consumer is read once).
 * Cancelling stops the pull in progress but leaves the source open, so that handlers still
 * running can settle what they hold; the caller closes the source (BrokerConsumer does, once
 * they have), and what was taken but never settled goes back to the broker. `onTake` is told
 * of every delivery as the source hands it over (BrokerConsumer counts what it holds).
 */
import type { Publisher } from '../streams/index.js';
import { publisher } from '../streams/index.js';
import type { Delivery } from './delivery.js';
import type { BrokerSource } from './source.js';
import { argSource } from './source.js';
import { InvalidArgumentError } from '../core/index.js';

export function brokerPublisher(source: BrokerSource, onTake?: (delivery: Delivery) => void): Publisher<Delivery> {
  argSource(source, ['pull'], 'a broker source (an object with name and pull())');
  if (onTake !== undefined && typeof onTake !== 'function') throw new InvalidArgumentError('onTake', 'a function', onTake);
  return publisher<Delivery>(
    () => ({
      pull: (emitter) =>
        source.pull(
          emitter.demand,
          (d) => {
            onTake?.(d);
            void emitter.next(d);
          },
          emitter.signal,
        ),
    }),
    { single: true, name: source.name },
  );
}
