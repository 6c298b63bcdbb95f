/**
 * The write timeout's enforcer: clients with response bytes pending are watched, sampled by one
 * sweep, and cut when their window's verdict says so (read-rate.ts: the rule;
 * socket-progress.ts: what a client has taken). One sweep for all watched clients, not a timer
 * per response, so the probe reads the kernel's table once for all of them.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { ProgressProbe } from './socket-progress.js';
import { ReadWindow } from './read-rate.js';

export interface ReadWatchOptions<K> {
  /** `server.writeTimeout`, ms. */
  readonly windowMs: number;
  /** `server.minReadRate`, bytes per second; 0: only the no-progress rule. */
  readonly minBytesPerS: number;
  readonly probe: ProgressProbe<K>;
  /** @default systemClock */
  readonly clock?: Clock;
}

interface Watched {
  /** Swept once already: its window starts at the next sweep. */
  seen: boolean;
  window: ReadWindow | undefined;
  readonly cut: () => void;
}

/**
 * How often watched clients are sampled: a window's end is seen up to this late. A quarter
 * of the window, at most a second (the probe's table read is per sweep).
 */
export function sweepMs(windowMs: number): number {
  return Math.max(1, Math.min(1000, Math.floor(windowMs / 4)));
}

export class ReadWatch<K> {
  readonly #opts: ReadWatchOptions<K>;
  readonly #clock: Clock;
  readonly #watched = new Map<K, Watched>();
  #timer: TimerHandle | undefined;

  constructor(opts: ReadWatchOptions<K>) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Clients watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Bytes are pending for `key`'s client: from now it must keep up, or `cut` is called (once,
   * and the watch ends). Returns the call that ends the watch (nothing pending any more).
   */
  watch(key: K, cut: () => void): () => void {
    // Its window starts at the second sweep from now: the probe's counts are as of a sweep, and
    // a client that takes all that is pending within a sweep (most do) costs no table read.
    const entry: Watched = { seen: false, window: undefined, cut };
    this.#watched.set(key, entry);
    if (this.#timer === undefined) this.#schedule();
    return () => {
      if (this.#watched.get(key) === entry) this.#watched.delete(key);
      if (this.#watched.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** Sample every watched client (the timer's work; tests call it in virtual time). */
  sweep(): void {
    this.#opts.probe.refresh();
    const now = this.#clock.now();
    for (const [key, entry] of [...this.#watched]) {
      if (entry.window === undefined) {
        // Pending for a whole sweep (or its count was not known then): its window starts now.
        if (entry.seen) this.#start(entry, key, now);
        entry.seen = true;
        continue;
      }
      // Read only when the window ends: a sweep in which none does reads no table.
      if (now - entry.window.since < this.#opts.windowMs) continue;
      const taken = this.#opts.probe.taken(key);
      if (taken === undefined || entry.window.observe(now, taken)) continue;
      this.#watched.delete(key);
      entry.cut();
    }
    if (this.#watched.size === 0) this.stop();
  }

  #start(entry: Watched, key: K, now: number): void {
    const taken = this.#opts.probe.taken(key);
    if (taken !== undefined) entry.window = new ReadWindow(this.#opts.windowMs, this.#opts.minBytesPerS, now, taken);
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      this.sweep();
      if (this.#watched.size > 0 && this.#timer === undefined) this.#schedule();
    }, sweepMs(this.#opts.windowMs));
    // A watch never keeps the process alive by itself.
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
