/**
 * One 'abort' listener per AbortSignal, however many waiters share it.
 *
 * Node's EventTarget scans a signal's listener list on every addEventListener (duplicate
 * check) and removeEventListener, so a listener per waiter costs O(n) per waiter when n
 * waiters share one signal (a batch cancelled together): quadratic in the batch. Here the
 * waiters of a signal form an intrusive doubly linked list — joining and leaving are O(1)
 * and allocate nothing per waiter — and the listener is removed when the last one leaves.
 */

/** The links a waiter carries for its signal's list. */
export interface SignalMember<W extends SignalMember<W>> {
  group: SignalWaiters<W> | undefined;
  prevOfSignal: W | undefined;
  nextOfSignal: W | undefined;
}

/** The waiters of one signal, in arrival order; it is itself the signal's listener. */
export class SignalWaiters<W extends SignalMember<W>> {
  head: W | undefined = undefined;
  tail: W | undefined = undefined;
  constructor(
    readonly signal: AbortSignal,
    readonly registry: SignalRegistry<W>,
  ) {}

  handleEvent(): void {
    this.registry.aborted(this);
  }
}

export class SignalRegistry<W extends SignalMember<W>> {
  // A Map, not a WeakMap: an entry lives exactly as long as its signal has waiters, which the
  // gate holds anyway, and every way out of the queue leaves (or empties) the list. Measured
  // at 100k live signals: Map get+set+delete 0.35-0.45 µs, WeakMap 0.6-1.4 µs.
  readonly #groups = new Map<AbortSignal, SignalWaiters<W>>();
  readonly #onAbort: (waiters: W[], signal: AbortSignal) => void;

  /** `onAbort` gets every waiter of the aborted signal, in arrival order, already off its list. */
  constructor(onAbort: (waiters: W[], signal: AbortSignal) => void) {
    this.#onAbort = onAbort;
  }

  join(w: W, signal: AbortSignal): void {
    let g = this.#groups.get(signal);
    if (g === undefined) {
      g = new SignalWaiters<W>(signal, this);
      signal.addEventListener('abort', g);
      this.#groups.set(signal, g);
    }
    w.group = g;
    const tail = g.tail;
    if (tail === undefined) {
      g.head = w;
    } else {
      tail.nextOfSignal = w;
      w.prevOfSignal = tail;
    }
    g.tail = w;
  }

  /** Take `w` off its signal's list; the last one out removes the listener. No-op when on none. */
  leave(w: W): void {
    const g = w.group;
    if (g === undefined) return;
    const prev = w.prevOfSignal;
    const next = w.nextOfSignal;
    if (prev === undefined) g.head = next;
    else prev.nextOfSignal = next;
    if (next === undefined) g.tail = prev;
    else next.prevOfSignal = prev;
    w.group = w.prevOfSignal = w.nextOfSignal = undefined;
    if (g.head === undefined) this.#drop(g);
  }

  /** The signal fired: empty its list first (callbacks may re-enter), then hand the waiters over. */
  aborted(g: SignalWaiters<W>): void {
    if (this.#groups.get(g.signal) !== g) return;
    const out: W[] = [];
    for (let w = g.head; w !== undefined; ) {
      const next = w.nextOfSignal;
      w.group = w.prevOfSignal = w.nextOfSignal = undefined;
      out.push(w);
      w = next;
    }
    g.head = g.tail = undefined;
    this.#drop(g);
    this.#onAbort(out, g.signal);
  }

  #drop(g: SignalWaiters<W>): void {
    g.signal.removeEventListener('abort', g);
    this.#groups.delete(g.signal);
  }
}
