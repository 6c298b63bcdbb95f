/**
 * Rejections are logged per burst, not per request: counts per route and reason, written as
 * one line each per period (a flood of 10 000 refusals a second is a handful of lines).
 */
import type { Logger } from './logger.js';

export class RejectionLog {
  readonly #logger: Logger;
  readonly #periodMs: number;
  readonly #counts = new Map<string, { route: string; reason: string; status: number; count: number }>();
  #timer: NodeJS.Timeout | undefined;

  readonly #message: string;

  constructor(logger: Logger, periodMs: number, message = 'rejected') {
    this.#logger = logger;
    this.#periodMs = periodMs;
    this.#message = message;
  }

  count(route: string, reason: string, status: number): void {
    const k = `${route}\0${reason}`;
    const e = this.#counts.get(k);
    if (e !== undefined) e.count++;
    else this.#counts.set(k, { route, reason, status, count: 1 });
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#periodMs);
      this.#timer.unref();
    }
  }

  /** Write what was counted; also on close, so the last burst is not lost. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const e of this.#counts.values()) this.#logger.warn(this.#message, { ...e, periodMs: this.#periodMs });
    this.#counts.clear();
  }
}
