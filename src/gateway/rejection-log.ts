/**
 * Rejections are logged per burst, not per request: counts per route and reason, written as
 * one line each per period (a flood of 10 000 refusals a second is a handful of lines). Failed
 * admissions too (admission-failures.ts), at level error and keyed by the error, the first of
 * a route and error written at once (`firstAtOnce`): an operator learns of the failure when it
 * begins, and the rest of that period comes as one line with its count.
 */
import type { Logger } from './logger.js';

export interface RejectionLogOptions {
  /** The lines' msg. @default 'rejected' */
  readonly message?: string;
  /** @default 'warn' */
  readonly level?: 'warn' | 'error';
  /** The field the lines name what is counted in ('reason'; 'error' for a failure's message). @default 'reason' */
  readonly keyField?: string;
  /**
   * Write the first of a route and key in a period at once (with `count: 1`), the rest at the
   * period's end as one line with their count. @default false: all at the period's end
   */
  readonly firstAtOnce?: boolean;
}

interface Entry {
  readonly route: string;
  readonly key: string;
  readonly status: number;
  count: number;
}

export class RejectionLog {
  readonly #logger: Logger;
  readonly #periodMs: number;
  readonly #message: string;
  readonly #level: 'warn' | 'error';
  readonly #keyField: string;
  readonly #firstAtOnce: boolean;
  /** Counts by route, then key: under a flood, one count per refusal with no key string built for it. */
  readonly #counts = new Map<string, Map<string, Entry>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, periodMs: number, options: RejectionLogOptions = {}) {
    this.#logger = logger;
    this.#periodMs = periodMs;
    this.#message = options.message ?? 'rejected';
    this.#level = options.level ?? 'warn';
    this.#keyField = options.keyField ?? 'reason';
    this.#firstAtOnce = options.firstAtOnce ?? false;
  }

  count(route: string, key: string, status: number): void {
    let byKey = this.#counts.get(route);
    if (byKey === undefined) this.#counts.set(route, (byKey = new Map<string, Entry>()));
    const e = byKey.get(key);
    if (e !== undefined) e.count++;
    else if (this.#firstAtOnce) {
      byKey.set(key, { route, key, status, count: 0 });
      this.#write({ route, key, status, count: 1 }, false);
    } else byKey.set(key, { route, key, status, count: 1 });
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#periodMs);
      this.#timer.unref();
    }
  }

  /** Write what was counted; also on close, so the last burst is not lost. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const byKey of this.#counts.values()) for (const e of byKey.values()) if (e.count > 0) this.#write(e, true);
    this.#counts.clear();
  }

  #write(e: Entry, periodic: boolean): void {
    const fields = { route: e.route, [this.#keyField]: e.key, status: e.status, count: e.count, ...(periodic ? { periodMs: this.#periodMs } : {}) };
    if (this.#level === 'error') this.#logger.error(this.#message, fields);
    else this.#logger.warn(this.#message, fields);
  }
}
