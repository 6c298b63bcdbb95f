/**
 * The floor for the channel suite: the least an awaitable bounded channel can do with the
 * same idiom (`await put(x)`, `for await`). A ring buffer, arrays of waiting takers and
 * putters, no close reasons, no stats, no drop policies, no deadlines, no abort. Per item
 * it still pays what the idiom costs: an await on the put and a promise per `next()`.
 */
const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

export class MiniChannel<T> implements AsyncIterableIterator<T, undefined> {
  readonly #buf: (T | undefined)[];
  #head = 0;
  #size = 0;
  #closed = false;
  readonly #takers: ((r: IteratorResult<T, undefined>) => void)[] = [];
  readonly #putters: { item: T; resolve: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.#buf = new Array<T | undefined>(capacity);
  }

  put(item: T): Promise<void> {
    const taker = this.#takers.shift();
    if (taker !== undefined) taker({ value: item, done: false });
    else if (this.#size < this.capacity) this.#buf[(this.#head + this.#size++) % this.capacity] = item;
    else return new Promise((resolve) => this.#putters.push({ item, resolve }));
    return RESOLVED;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#takers.splice(0)) t(DONE);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#size === 0) return this.#closed ? Promise.resolve(DONE) : new Promise((resolve) => this.#takers.push(resolve));
    const item = this.#buf[this.#head] as T;
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    const p = this.#putters.shift();
    if (p !== undefined) {
      this.#buf[(this.#head + this.#size++) % this.capacity] = p.item;
      p.resolve();
    }
    return Promise.resolve({ value: item, done: false });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
