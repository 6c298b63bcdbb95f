/** `metered(meter)`: a pass-through stage that reports what flows past it (items/s, outstanding demand) to a StageMeter. */
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import type { StageMeter } from '../stage-meter.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';
import { badArgument } from '../arguments.js';

class MeteredRelay<T> extends Relay<T, T> {
  constructor(
    upstream: Publisher<T>,
    readonly meter: StageMeter,
  ) {
    super(upstream);
  }
  override pull(e: Emitter<T>): void {
    this.meter.demand = e.demand;
    super.pull(e);
  }
  protected handle(item: T): void {
    this.meter.passed();
    this.emitter.next(item);
    this.meter.demand = this.emitter.demand;
  }
}

export function metered<T>(meter: StageMeter): Operator<T, T> {
  if (meter === null || typeof meter !== 'object' || typeof (meter as Partial<StageMeter>).passed !== 'function') {
    throw badArgument('metered', 'meter', 'a StageMeter', meter);
  }
  return (upstream) => publisher(() => new MeteredRelay(upstream, meter), { name: `metered(${meter.name})` });
}
