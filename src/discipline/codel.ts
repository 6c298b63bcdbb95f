/**
 * CoDel (Nichols & Jacobson, "Controlling Queue Delay", ACM Queue 2012; RFC 8289) over a
 * FIFO. At dequeue, when the head's sojourn time has stayed above `targetMs` for at least
 * `intervalMs`, CoDel enters the dropping state and evicts heads at times
 *   dropNext = t + intervalMs / sqrt(count)
 * until a head's sojourn falls below target. A good queue (bursts drain within an interval)
 * is never touched; a standing queue is cut back. Evicted entries are handed to `onEvict`.
 */
import { LinkedDiscipline } from './linked.js';
import type { Entry, EvictFn } from './entry.js';

export interface CodelOptions {
  /** Acceptable standing queue delay, ms. RFC 8289 default. @default 5 */
  readonly targetMs?: number;
  /** Window over which the delay must stay above target, ms (about a worst-case RTT). RFC 8289 default. @default 100 */
  readonly intervalMs?: number;
}

export const CODEL_DEFAULTS = { targetMs: 5, intervalMs: 100 } as const;

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

  peek(): Entry<T> | undefined {
    return this.head;
  }

  shift(now: number, onEvict?: EvictFn<T>): Entry<T> | undefined {
    let e = this.#take(now);
    if (e === undefined) return undefined;
    if (this.#dropping) {
      if (!e.okToDrop) {
        this.#dropping = false;
      } else {
        while (now >= this.#dropNext && this.#dropping) {
          this.#evict(e.entry, onEvict);
          this.#count++;
          e = this.#take(now);
          if (e === undefined || !e.okToDrop) {
            this.#dropping = false;
            break;
          }
          this.#dropNext = this.#controlLaw(this.#dropNext);
        }
      }
    } else if (e.okToDrop) {
      this.#evict(e.entry, onEvict);
      e = this.#take(now);
      this.#dropping = true;
      // Re-enter with a count near the last one if dropping stopped only recently (RFC 8289 §5.5).
      const delta = this.#count - this.#lastCount;
      this.#count = delta > 1 && now - this.#dropNext < 16 * this.intervalMs ? delta : 1;
      this.#dropNext = this.#controlLaw(now);
      this.#lastCount = this.#count;
    }
    return e?.entry;
  }

  #evict(entry: Entry<T>, onEvict: EvictFn<T> | undefined): void {
    onEvict?.(entry);
  }

  /** Dequeue the head and judge its sojourn time (RFC 8289 dodequeue). */
  #take(now: number): { entry: Entry<T>; okToDrop: boolean } | undefined {
    const entry = this.head;
    if (entry === undefined) {
      this.#firstAboveTime = 0;
      return undefined;
    }
    this.remove(entry);
    const sojourn = now - entry.enqueuedAt;
    let okToDrop = false;
    if (sojourn < this.targetMs) {
      this.#firstAboveTime = 0;
    } else if (this.#firstAboveTime === 0) {
      this.#firstAboveTime = now + this.intervalMs;
    } else if (now >= this.#firstAboveTime) {
      okToDrop = true;
    }
    return { entry, okToDrop };
  }

  #controlLaw(t: number): number {
    return t + this.intervalMs / Math.sqrt(this.#count);
  }
}
