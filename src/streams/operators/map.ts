/** `map(fn)`: each item becomes `fn(item)`; demand passes through unchanged. A throw fails the stream and cancels upstream. */
import { publisher } from '../publisher.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';
import { checkFn } from './checks.js';

class MapRelay<T, R> extends Relay<T, R> {
  constructor(
    upstream: Publisher<T>,
    readonly fn: (item: T, index: number) => R,
  ) {
    super(upstream);
  }
  #index = 0;
  protected handle(item: T): void {
    let out: R;
    try {
      out = this.fn(item, this.#index++);
    } catch (err) {
      this.failWith(err);
      return;
    }
    this.emitter.next(out);
  }
}

export function map<T, R>(fn: (item: T, index: number) => R): Operator<T, R> {
  checkFn('map', fn);
  return (upstream) => publisher(() => new MapRelay(upstream, fn), { name: 'map' });
}
