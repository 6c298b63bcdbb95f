/**
 * Admission that failed (a store error the failure mode does not cover: a key of another type,
 * WRONGTYPE) is logged per burst, as refusals are (rejection-log.ts): the first failure of a
 * route and error at once, the others of that second as one line with their `count`. Before
 * hostile-ops each failed request wrote its own error line: a foreign key under the store's
 * keyPrefix turned every request into a 500 and a log line, 10 000 lines a second under load.
 */
import type { Logger } from './logger.js';

const PERIOD_MS = 1000;

class FailureLog {
  readonly #logger: Logger;
  /** Failures counted since the line written at once, by route then error. */
  readonly #counts = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  failed(msg: string, route: string, error: string): void {
    let byError = this.#counts.get(route);
    if (byError === undefined) this.#counts.set(route, (byError = new Map<string, number>()));
    const seen = byError.get(error);
    if (seen === undefined) {
      byError.set(error, 0);
      this.#logger.error(msg, { route, error });
    } else byError.set(error, seen + 1);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(msg), PERIOD_MS);
      this.#timer.unref();
    }
  }

  #flush(msg: string): void {
    this.#timer = undefined;
    for (const [route, byError] of this.#counts) for (const [error, count] of byError) if (count > 0) this.#logger.error(msg, { route, error, count, periodMs: PERIOD_MS });
    this.#counts.clear();
  }
}

/** One log per logger and message: the gateway's state is not widened for it (gateway.ts is at its size cap). */
const logs = new WeakMap<Logger, Map<string, FailureLog>>();

/** Log `err` of `route` under `msg` ('admission failed', 'shadow admission failed'), per burst. */
export function logAdmissionFailure(logger: Logger, msg: string, route: string, err: unknown): void {
  let byMsg = logs.get(logger);
  if (byMsg === undefined) logs.set(logger, (byMsg = new Map<string, FailureLog>()));
  let log = byMsg.get(msg);
  if (log === undefined) byMsg.set(msg, (log = new FailureLog(logger)));
  log.failed(msg, route, String(err));
}
