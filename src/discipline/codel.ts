/**
 * CoDel (Nichols & Jacobson, "Controlling Queue Delay", ACM Queue 2012; RFC 8289) over a
 * FIFO. At dequeue, when the head's sojourn time has stayed above `targetMs` for at least
 * `intervalMs`, CoDel enters the dropping state and evicts heads at times
 *   dropNext = t + intervalMs / sqrt(count)
 * until a head's sojourn falls below target. A good queue (bursts drain within an interval)
 * is never touched; a standing queue is cut back. Evicted entries are handed to `onEvict`.
 *
 * The judgement runs in place (`peek(now, onEvict)` leaves the entry to serve at the head),
 * so a gate can check that the next waiter fits before it takes it.
 */
import { LinkedDiscipline } from './linked.js';
import type { Entry, EvictFn } from './entry.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface CodelOptions {
  /** Acceptable standing queue delay, ms. RFC 8289 default. >= 0. @default 5 */
  readonly targetMs?: number;
  /** Window over which the delay must stay above target, ms (about a worst-case RTT). RFC 8289 default. > 0. @default 100 */
  readonly intervalMs?: number;
}

export const CODEL_DEFAULTS = deepFreeze({ targetMs: 5, intervalMs: 100 } as const);

export class CodelDiscipline<T> extends LinkedDiscipline<T> {
  readonly name = 'codel';
  readonly targetMs: number;
  readonly intervalMs: number;
  #firstAboveTime = 0;
  #dropping = false;
  #dropNext = 0;
  #count = 0;
  #lastCount = 0;

  constructor(targetMs: number = CODEL_DEFAULTS.targetMs, intervalMs: number = CODEL_DEFAULTS.intervalMs) {
    super();
    this.targetMs = targetMs;
    this.intervalMs = intervalMs;
  }

  /** Whether CoDel is currently shedding (a standing queue was detected). */
  get dropping(): boolean {
    return this.#dropping;
  }

  peek(now?: number, onEvict?: EvictFn<T>): Entry<T> | undefined {
    return now === undefined ? this.head : this.#judge(now, onEvict);
  }

  shift(now: number, onEvict?: EvictFn<T>): Entry<T> | undefined {
    const e = this.#judge(now, onEvict);
    if (e !== undefined) this.remove(e);
    return e;
  }

  /** RFC 8289 dequeue, except that the entry to serve stays queued. */
  #judge(now: number, onEvict: EvictFn<T> | undefined): Entry<T> | undefined {
    let e = this.head;
    if (e === undefined) {
      this.#firstAboveTime = 0;
      this.#dropping = false;
      return undefined;
    }
    let ok = this.#okToDrop(e, now);
    if (this.#dropping) {
      if (!ok) {
        this.#dropping = false;
      } else {
        while (now >= this.#dropNext && this.#dropping) {
          this.#evict(e, onEvict);
          this.#count++;
          e = this.head;
          if (e === undefined) {
            this.#dropping = false;
            break;
          }
          ok = this.#okToDrop(e, now);
          if (!ok) this.#dropping = false;
          else this.#dropNext = this.#controlLaw(this.#dropNext);
        }
      }
    } else if (ok) {
      this.#evict(e, onEvict);
      e = this.head;
      if (e !== undefined) this.#okToDrop(e, now);
      this.#dropping = true;
      // Re-enter with a count near the last one if dropping stopped only recently (RFC 8289 §5.5).
      const delta = this.#count - this.#lastCount;
      this.#count = delta > 1 && now - this.#dropNext < 16 * this.intervalMs ? delta : 1;
      this.#dropNext = this.#controlLaw(now);
      this.#lastCount = this.#count;
    }
    return e;
  }

  #evict(e: Entry<T>, onEvict: EvictFn<T> | undefined): void {
    this.remove(e);
    onEvict?.(e);
  }

  /** Judge the head's sojourn time; idempotent for the same head at the same `now`. */
  #okToDrop(e: Entry<T>, now: number): boolean {
    const sojourn = now - e.enqueuedAt;
    if (sojourn < this.targetMs) {
      this.#firstAboveTime = 0;
      return false;
    }
    if (this.#firstAboveTime === 0) {
      this.#firstAboveTime = now + this.intervalMs;
      return false;
    }
    return now >= this.#firstAboveTime;
  }

  #controlLaw(t: number): number {
    return t + this.intervalMs / Math.sqrt(this.#count);
  }
}
