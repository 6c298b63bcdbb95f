/** One measured phase of the demo: what the load generator saw and what the server process used. */
import type { ProcessWindow } from './process-meter.js';
import type { OpenLoopResult } from './open-loop.js';
import type { UpstreamWindow } from './upstream.js';

export interface PhaseResult {
  readonly run: string;
  /** Load as a multiple of the upstream's capacity. */
  readonly multiple: number;
  /** Offered load, requests/s. */
  readonly offered: number;
  /** 2xx answers per second that arrived while the phase was sending. */
  readonly goodput: number;
  readonly ok: number;
  readonly p50: number;
  readonly p99: number;
  /** Refusals by status (429, 503). */
  readonly rejected: Readonly<Record<string, number>>;
  /** p99 latency of the refusals, ms (NaN without refusals). */
  readonly rejectedP99: number;
  /** Share of the refusals that carried Retry-After (NaN without refusals). */
  readonly retryAfterShare: number;
  readonly otherStatus: Readonly<Record<string, number>>;
  readonly timeouts: number;
  readonly errors: number;
  readonly sent: number;
  readonly upstream: UpstreamWindow | undefined;
  readonly process: ProcessWindow | undefined;
  /** How far the generator ever fell behind its schedule, ms. */
  readonly maxLagMs: number;
  /**
   * False when the generator fell more than {@link MAX_VALID_LAG_MS} behind its schedule:
   * the load was not offered as planned (the machine was too busy to send it), so the
   * phase's figures say more about the machine than about the server.
   */
  readonly valid: boolean;
}

/** A phase whose load generator ran later than this behind its schedule is marked invalid, ms. */
export const MAX_VALID_LAG_MS = 100;

export function phaseResult(run: string, multiple: number, r: OpenLoopResult, proc: ProcessWindow | undefined, upstream: UpstreamWindow | undefined): PhaseResult {
  const [p50, p99] = r.okLatency.percentiles([50, 99]);
  const [rejectedP99] = r.rejectedLatency.percentiles([99]);
  const refused = r.rejectedLatency.count;
  return {
    run,
    multiple,
    offered: r.rate,
    goodput: r.okInWindow / (r.durationMs / 1000),
    ok: r.ok,
    p50: p50!,
    p99: p99!,
    rejected: r.rejected,
    rejectedP99: rejectedP99!,
    retryAfterShare: refused === 0 ? NaN : r.rejectedWithRetryAfter / refused,
    otherStatus: r.otherStatus,
    timeouts: r.timeouts,
    errors: r.errors,
    sent: r.sent,
    upstream,
    process: proc,
    maxLagMs: r.maxLagMs,
    valid: r.maxLagMs <= MAX_VALID_LAG_MS,
  };
}
