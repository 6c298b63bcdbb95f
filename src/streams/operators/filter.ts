/** `filter(predicate)`: passes the items it accepts; every refused item is replaced by a request upstream, so downstream demand is still met. */
import { publisher } from '../publisher.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';
import { checkFn } from './checks.js';

class FilterRelay<T> extends Relay<T, T> {
  constructor(
    upstream: Publisher<T>,
    readonly predicate: (item: T, index: number) => boolean,
  ) {
    super(upstream);
  }
  #index = 0;
  protected handle(item: T): void {
    let keep: boolean;
    try {
      keep = this.predicate(item, this.#index++);
    } catch (err) {
      this.failWith(err);
      return;
    }
    if (keep) this.emitter.next(item);
    else this.emitter.wake(); // demand unmet: pull (request upstream) again
  }
}

export function filter<T, S extends T = T>(predicate: ((item: T, index: number) => item is S) | ((item: T, index: number) => boolean)): Operator<T, S> {
  checkFn('filter', predicate);
  return (upstream) => publisher<T>(() => new FilterRelay<T>(upstream, predicate), { name: 'filter' }) as Publisher<S>;
}
