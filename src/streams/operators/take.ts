/** `take(n)`: the first n items, then complete and cancel upstream. Never asks upstream for more than it will pass on. */
import { optInt } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';

class TakeRelay<T> extends Relay<T, T> {
  #left: number;
  constructor(upstream: Publisher<T>, count: number) {
    super(upstream);
    this.#left = count;
  }
  override start(e: Emitter<T>): void {
    if (this.#left === 0) e.complete();
    else super.start(e);
  }
  protected override upstreamWant(demand: number): number {
    return Math.min(demand, this.#left) - this.requested;
  }
  protected handle(item: T): void {
    this.#left--;
    const e = this.emitter;
    if (this.#left === 0) this.cancel();
    e.next(item);
    if (this.#left === 0) e.complete();
  }
}

export function take<T>(count: number): Operator<T, T> {
  const n = optInt('take(count)', count, 0);
  return (upstream) => publisher(() => new TakeRelay(upstream, n), { name: 'take' });
}
