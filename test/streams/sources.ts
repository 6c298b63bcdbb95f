/** Publishers the rule tests run against, and a scriptable source. */
import type { Emitter, Publisher, Source, Subscriber } from '../../src/streams/index.js';
import { fromArray, fromAsyncIterable, fromIterable, map, pipe, publisher } from '../../src/streams/index.js';

export interface Kind {
  readonly name: string;
  /** A fresh publisher of 0..n-1. */
  make(n: number): Publisher<number>;
  readonly async: boolean;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export const kinds: readonly Kind[] = [
  { name: 'fromArray', async: false, make: (n) => fromArray(range(n)) },
  {
    name: 'fromIterable(generator)',
    async: false,
    make: (n) =>
      fromIterable(
        (function* () {
          for (let i = 0; i < n; i++) yield i;
        })(),
      ),
  },
  {
    name: 'fromAsyncIterable',
    async: true,
    make: (n) =>
      fromAsyncIterable(
        (async function* () {
          for (let i = 0; i < n; i++) yield i;
        })(),
      ),
  },
  { name: 'map(fromArray)', async: false, make: (n) => pipe(fromArray(range(n)), map((x: number) => x)) },
];

/** A source whose behaviour the test scripts, recording what the emission asks of it. */
export class Scripted<T> implements Source<T> {
  emitter: Emitter<T> | undefined;
  pulls = 0;
  cancels = 0;
  onPull: ((e: Emitter<T>) => void | Promise<void>) | undefined;
  onStart: ((e: Emitter<T>) => void) | undefined;
  onCancel: (() => void) | undefined;
  start(e: Emitter<T>): void {
    this.emitter = e;
    this.onStart?.(e);
  }
  pull(e: Emitter<T>): void | Promise<void> {
    this.pulls++;
    return this.onPull?.(e);
  }
  cancel(): void {
    this.cancels++;
    this.onCancel?.();
  }
}

export function scripted<T>(setup?: (s: Scripted<T>) => void): { source: Scripted<T>; pub: Publisher<T> } {
  const source = new Scripted<T>();
  setup?.(source);
  return { source, pub: publisher(() => source, { name: 'scripted' }) };
}

/** A publisher that hands over the subscriber it is given (to call its signal methods directly). */
export function capture<T>(): { pub: Publisher<T>; subscriber: () => Subscriber<T> } {
  let got: Subscriber<T> | undefined;
  return {
    pub: { subscribe: (s) => void (got = s) },
    subscriber: () => got!,
  };
}
