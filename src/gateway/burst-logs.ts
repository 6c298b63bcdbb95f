/**
 * The gateway's logs written per burst (rejection-log.ts), held in its state (gateway.ts) so
 * that its drain writes each one's last burst: refusals, a shadow policy's would-have-refused,
 * failed admissions (admission-failures.ts), bad requests. Until hostile-ops the shadow and
 * admission-failure logs lived in module maps keyed by logger, and what their last second
 * counted was lost at shutdown.
 */
import type { Clock } from '../core/clock.js';
import { AdmissionFailures } from './admission-failures.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { Logger } from './logger.js';
import { RejectionLog } from './rejection-log.js';

export interface BurstLogs {
  readonly rejections: RejectionLog;
  /** A shadow policy's refusals, counted instead of given. */
  readonly shadowRejections: RejectionLog;
  readonly admissionFailures: AdmissionFailures;
  /** Responses cut off while they waited for a slow client, for the slot they held (slow-readers.ts). */
  readonly slowReaderCuts: RejectionLog;
}

/** `clock`: the gateway's (its `clock` option), on which a route's failed admissions are recent or not. */
export function burstLogs(logger: Logger, clock?: Clock, periodMs: number = GATEWAY_DEFAULTS.rejectionLogMs): BurstLogs {
  return {
    rejections: new RejectionLog(logger, periodMs),
    shadowRejections: new RejectionLog(logger, periodMs, { message: 'shadow: would have refused' }),
    admissionFailures: new AdmissionFailures(logger, periodMs, clock),
    slowReaderCuts: new RejectionLog(logger, periodMs, { message: 'slow readers cut for their slots' }),
  };
}

/** Write every log's last burst (at the end of a drain); `state`: the gateway's, these logs and its bad-request log. */
export function flushLogs(state: BurstLogs & { readonly badRequests: { flush(): void } }): void {
  state.rejections.flush();
  state.shadowRejections.flush();
  state.admissionFailures.flush();
  state.slowReaderCuts.flush();
  state.badRequests.flush();
}
