/**
 * Buffered items kept by a waiting discipline (LIFO, CoDel, priority). CoDel's evictions are
 * handed to `onEvict` during `shift`; the channel only queues them there and reports them
 * after the take completes, so user callbacks never run inside the discipline.
 */
import type { Clock } from '../core/clock.js';
import type { Discipline, Entry, EvictFn } from '../discipline/entry.js';
import { NONE } from './item-store.js';
import type { ItemStore, None } from './item-store.js';

export class DisciplineStore<T> implements ItemStore<T> {
  readonly #d: Discipline<T>;
  readonly #clock: Clock;
  readonly #onEvict: EvictFn<T>;
  /** Only CoDel (sojourn) and priority (aging) read time; a clock read costs as much as the rest of a put. */
  readonly #timed: boolean;

  constructor(discipline: Discipline<T>, clock: Clock, onEvict: (item: T) => void) {
    this.#d = discipline;
    this.#clock = clock;
    this.#onEvict = (e: Entry<T>) => onEvict(e.value);
    this.#timed = discipline.name === 'codel' || discipline.name === 'priority';
  }

  get size(): number {
    return this.#d.size;
  }

  push(item: T, priority: number): void {
    this.#d.push(item, priority, this.#timed ? this.#clock.now() : 0);
  }

  shift(): T | None {
    const e = this.#d.shift(this.#timed ? this.#clock.now() : 0, this.#onEvict);
    return e === undefined ? NONE : e.value;
  }

  evictOldest(): T {
    return this.#removed(this.#d.oldest());
  }

  evictAt(i: number): T {
    return this.#removed(this.#d.at(i));
  }

  drain(): T[] {
    return this.#d.drain().map((e) => e.value);
  }

  #removed(e: Entry<T> | undefined): T {
    // Callers check size first, so a missing entry is a bug here, not a user error.
    if (e === undefined || !this.#d.remove(e)) throw new Error('sluice: channel store out of sync');
    return e.value;
  }
}
