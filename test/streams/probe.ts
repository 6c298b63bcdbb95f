/** A recording subscriber that checks the publisher side of the rules as signals arrive. */
import type { Subscriber, Subscription } from '../../src/streams/index.js';

export type Signal<T> = { type: 'subscribe' } | { type: 'next'; value: T } | { type: 'error'; error: unknown } | { type: 'complete' };

export interface ProbeOptions<T> {
  /** request(n) from onSubscribe (0: none). */
  readonly initial?: number;
  /** Called inside onNext. */
  readonly onNext?: (item: T, s: Subscription, probe: Probe<T>) => void;
  readonly onSubscribe?: (s: Subscription) => void;
}

export class Probe<T> implements Subscriber<T> {
  readonly signals: Signal<T>[] = [];
  /** Rule violations seen: a signal inside a signal, a signal after a terminal one, more items than requested. */
  readonly violations: string[] = [];
  subscription: Subscription | undefined;
  requested = 0;
  #depth = 0;
  #terminated = false;
  readonly #opts: ProbeOptions<T>;
  #resolve!: () => void;
  readonly done: Promise<void>;

  constructor(options: ProbeOptions<T> = {}) {
    this.#opts = options;
    this.done = new Promise((r) => (this.#resolve = r));
  }

  readonly items: T[] = [];
  get error(): unknown {
    const e = this.signals.find((s) => s.type === 'error');
    return e?.type === 'error' ? e.error : undefined;
  }
  get completed(): boolean {
    return this.signals.some((s) => s.type === 'complete');
  }

  request(n: number): void {
    this.requested += n;
    this.subscription!.request(n);
  }

  #enter(what: string): void {
    if (this.#depth > 0) this.violations.push(`${what} inside another signal (§1.3)`);
    if (this.#terminated) this.violations.push(`${what} after a terminal signal (§1.7)`);
    if (what !== 'onSubscribe' && this.signals.length === 0) this.violations.push(`${what} before onSubscribe (§1.9)`);
    this.#depth++;
  }

  onSubscribe(s: Subscription): void {
    this.#enter('onSubscribe');
    if (this.signals.length > 0) this.violations.push('onSubscribe twice (§2.12)');
    this.signals.push({ type: 'subscribe' });
    this.subscription = s;
    try {
      this.#opts.onSubscribe?.(s);
      if (this.#opts.initial) this.request(this.#opts.initial);
    } finally {
      this.#depth--;
    }
  }

  onNext(item: T): void {
    this.#enter('onNext');
    if (this.items.length < 10_000) this.signals.push({ type: 'next', value: item }); // bounded: §3.3 sends a million
    this.items.push(item);
    if (this.items.length > this.requested) this.violations.push(`onNext #${this.items.length} with ${this.requested} requested (§1.1)`);
    try {
      this.#opts.onNext?.(item, this.subscription!, this);
    } finally {
      this.#depth--;
    }
  }

  onError(error: unknown): void {
    this.#enter('onError');
    this.signals.push({ type: 'error', error });
    this.#terminated = true;
    this.#depth--;
    this.#resolve();
  }

  onComplete(): void {
    this.#enter('onComplete');
    this.signals.push({ type: 'complete' });
    this.#terminated = true;
    this.#depth--;
    this.#resolve();
  }
}

/** Let promise continuations and immediates run (no sleeping). */
export function settle(turns = 1): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < turns; i++) p = p.then(() => new Promise((r) => setImmediate(r)));
  return p;
}
