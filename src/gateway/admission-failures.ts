/**
 * Admissions that failed: an error the store's failure mode does not cover (a key of another
 * type under the store's keyPrefix, WRONGTYPE: not an outage, so not hidden by onStoreError),
 * each such request answered 500 admission_failed. Counted by route and reason for /status
 * (`routes[].admissionFailures`) and /metrics (`sluice_admission_failures_total{route,reason}`),
 * and logged per burst (rejection-log.ts): the first of a route and error at once, the rest of
 * that second as one line with its count. Held in the gateway's state, so the last burst is
 * written at close, and the counts outlive a reload (they are kept by route name).
 *
 * Until hostile-ops the only trace was a log line per request: /status said the store was
 * 'shared' and healthy, /metrics had nothing to alert on.
 */
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from './logger.js';
import { RejectionLog } from './rejection-log.js';

/** How long after its last failed admission a route is shown `failing`, ms. */
export const FAILING_MS = 10_000;

/** A route's failed admissions as /status shows them. */
export interface AdmissionFailureStatus {
  /** Requests answered 500 admission_failed since the start. */
  readonly count: number;
  /** One failed within the last 10 s (FAILING_MS). */
  readonly failing: boolean;
  /** The last one's reason (`store_wrongtype`, else `error`), error message and time (ISO 8601); absent before the first. */
  readonly reason?: string;
  readonly lastError?: string;
  readonly lastAt?: string;
}

interface RouteFailures {
  count: number;
  readonly byReason: Map<string, number>;
  reason: string;
  lastError: string;
  /** The last one's time on the gateway's clock (what `failing` is decided on) and on the wall clock (what `lastAt` shows). */
  at: number;
  lastAt: number;
}

/** A sluice error's code without its prefix, lower case (SLUICE_ERR_STORE_WRONGTYPE: `store_wrongtype`); `error` for anything else. */
export function failureReasonOf(err: unknown): string {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SLUICE_ERR_') ? code.slice('SLUICE_ERR_'.length).toLowerCase() : 'error';
}

export class AdmissionFailures {
  readonly #log: RejectionLog;
  readonly #shadowLog: RejectionLog;
  readonly #byRoute = new Map<string, RouteFailures>();
  readonly #clock: Pick<Clock, 'now'>;
  readonly #wallNow: () => number;

  /**
   * `clock`: the gateway's (its `clock` option), which decides `failing` — on Date.now, a gateway
   * on a virtual clock showed a route failing for 10 s of real time whatever its clock said.
   * `wallNow`: the time `lastAt` shows (ISO 8601 needs the wall clock, not a monotonic one).
   */
  constructor(logger: Logger, periodMs: number, clock: Pick<Clock, 'now'> = systemClock, wallNow: () => number = Date.now) {
    const options = { level: 'error', keyField: 'error', firstAtOnce: true } as const;
    this.#log = new RejectionLog(logger, periodMs, { ...options, message: 'admission failed' });
    // A shadow policy's failure answers nothing (the request goes on): logged, not counted.
    this.#shadowLog = new RejectionLog(logger, periodMs, { ...options, message: 'shadow admission failed' });
    this.#clock = clock;
    this.#wallNow = wallNow;
  }

  /** A request of `route` answered 500 admission_failed for `err`. */
  failed(route: string, err: unknown): void {
    const reason = failureReasonOf(err);
    const error = String(err);
    let r = this.#byRoute.get(route);
    if (r === undefined) this.#byRoute.set(route, (r = { count: 0, byReason: new Map(), reason, lastError: error, at: 0, lastAt: 0 }));
    r.count++;
    r.byReason.set(reason, (r.byReason.get(reason) ?? 0) + 1);
    r.reason = reason;
    r.lastError = error;
    r.at = this.#clock.now();
    r.lastAt = this.#wallNow();
    this.#log.count(route, error, 500);
  }

  /** A shadow policy's admission of `route` failed for `err` (the request went on). */
  shadowFailed(route: string, err: unknown): void {
    this.#shadowLog.count(route, String(err), 500);
  }

  status(route: string): AdmissionFailureStatus {
    const r = this.#byRoute.get(route);
    if (r === undefined) return { count: 0, failing: false };
    return { count: r.count, failing: this.#clock.now() - r.at < FAILING_MS, reason: r.reason, lastError: r.lastError, lastAt: new Date(r.lastAt).toISOString() };
  }

  /** Counts by route and reason, every route ever counted (a counter's series stays after a reload renamed its route). */
  *series(): Iterable<{ readonly route: string; readonly reason: string; readonly count: number }> {
    for (const [route, r] of this.#byRoute) for (const [reason, count] of r.byReason) yield { route, reason, count };
  }

  /** Write the bursts counted so far (at close: the last is not lost). */
  flush(): void {
    this.#log.flush();
    this.#shadowLog.flush();
  }
}
