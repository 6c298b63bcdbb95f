/**
 * Rejections are logged per burst, not per request: counts per route and reason, written as
 * one line each per period (a flood of 10 000 refusals a second is a handful of lines).
 */
import type { Logger } from './logger.js';

export class RejectionLog {
  readonly #logger: Logger;
  readonly #periodMs: number;
  /** Counts by route, then reason: under a flood, one count per refusal with no key string built for it. */
  readonly #counts = new Map<string, Map<string, { route: string; reason: string; status: number; count: number }>>();
  #timer: NodeJS.Timeout | undefined;

  readonly #message: string;

  constructor(logger: Logger, periodMs: number, message = 'rejected') {
    this.#logger = logger;
    this.#periodMs = periodMs;
    this.#message = message;
  }

  count(route: string, reason: string, status: number): void {
    let byReason = this.#counts.get(route);
    if (byReason === undefined) this.#counts.set(route, (byReason = new Map<string, { route: string; reason: string; status: number; count: number }>()));
    const e = byReason.get(reason);
    if (e !== undefined) e.count++;
    else byReason.set(reason, { route, reason, status, count: 1 });
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#periodMs);
      this.#timer.unref();
    }
  }

  /** Write what was counted; also on close, so the last burst is not lost. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const byReason of this.#counts.values()) for (const e of byReason.values()) this.#logger.warn(this.#message, { ...e, periodMs: this.#periodMs });
    this.#counts.clear();
  }
}
