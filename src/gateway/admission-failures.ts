/**
 * Admissions that failed: an error the store's failure mode does not cover (a key of another
 * type under the store's keyPrefix, WRONGTYPE: not an outage, so not hidden by onStoreError),
 * each such request answered 500 admission_failed. Logged per burst (rejection-log.ts): the
 * first of a route and error at once, the rest of that second as one line with its count. Held
 * in the gateway's state (burst-logs.ts), so the last burst is written at close.
 */
import type { Logger } from './logger.js';
import { RejectionLog } from './rejection-log.js';

export class AdmissionFailures {
  readonly #log: RejectionLog;
  readonly #shadowLog: RejectionLog;

  constructor(logger: Logger, periodMs: number) {
    const options = { level: 'error', keyField: 'error', firstAtOnce: true } as const;
    this.#log = new RejectionLog(logger, periodMs, { ...options, message: 'admission failed' });
    // A shadow policy's failure answers nothing (the request goes on): logged, not counted.
    this.#shadowLog = new RejectionLog(logger, periodMs, { ...options, message: 'shadow admission failed' });
  }

  /** A request of `route` answered 500 admission_failed for `err`. */
  failed(route: string, err: unknown): void {
    this.#log.count(route, String(err), 500);
  }

  /** A shadow policy's admission of `route` failed for `err` (the request went on). */
  shadowFailed(route: string, err: unknown): void {
    this.#shadowLog.count(route, String(err), 500);
  }

  /** Write the bursts counted so far (at close: the last is not lost). */
  flush(): void {
    this.#log.flush();
    this.#shadowLog.flush();
  }
}
