/** `skip(n)`: drops the first n items (asking upstream for them, since downstream did not). */
import { optInt } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';
import { UNBOUNDED } from '../rules.js';

class SkipRelay<T> extends Relay<T, T> {
  #left: number;
  constructor(upstream: Publisher<T>, count: number) {
    super(upstream);
    this.#left = count;
  }
  protected override upstreamWant(demand: number): number {
    if (demand === UNBOUNDED) return super.upstreamWant(demand);
    return demand + this.#left - this.requested;
  }
  protected handle(item: T): void {
    if (this.#left > 0) {
      this.#left--;
      return;
    }
    this.emitter.next(item);
  }
}

export function skip<T>(count: number): Operator<T, T> {
  const n = optInt('skip(count)', count, 0);
  return (upstream) => publisher(() => new SkipRelay(upstream, n), { name: 'skip' });
}
