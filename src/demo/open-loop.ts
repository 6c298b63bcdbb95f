/**
 * An open-loop load generator: requests are sent at a constant arrival rate, scheduled by
 * the clock and never by responses. A closed-loop tool (autocannon, wrk) sends the next
 * request only when one returns, so an overloaded server slows its own load down and the
 * queueing never shows; real users keep arriving. Latency is measured from the time a
 * request was *scheduled*, so a generator that falls behind does not hide the delay
 * (coordinated omission). Each request has a deadline: past it, the request is abandoned
 * (its connection closed) and counted as a timeout.
 */
import type { ConnectionPool, Outcome } from './connection-pool.js';
import { Samples } from './samples.js';

export interface OpenLoopOptions {
  /** Arrivals per second. > 0. */
  readonly rate: number;
  /** How long arrivals are sent and measured, ms. > 0. */
  readonly durationMs: number;
  /**
   * Arrivals at the same rate before the measured window, ms, not counted: connections
   * open, code is compiled and queues reach their steady state first. @default 0
   */
  readonly warmupMs?: number;
  /** Called once when the measured window starts (after the warm-up). */
  readonly onWindowStart?: () => void;
  /** A request not answered after this long is abandoned and counted as a timeout, ms. > 0. */
  readonly timeoutMs: number;
  /** Keep-alive connections to `url` (its `maxSockets` caps them). */
  readonly pool: ConnectionPool;
  /** Called every `progressMs` while the phase runs. */
  readonly onProgress?: (p: OpenLoopProgress) => void;
  /** @default 500 */
  readonly progressMs?: number;
}

export interface OpenLoopProgress {
  readonly elapsedMs: number;
  readonly sent: number;
  readonly ok: number;
  readonly rejected: number;
  readonly failed: number;
  readonly inFlight: number;
}

export interface OpenLoopResult {
  /** Target arrival rate, requests/s. */
  readonly rate: number;
  readonly durationMs: number;
  readonly sent: number;
  /** Requests answered 2xx. */
  readonly ok: number;
  /** 2xx answers that arrived while the phase was sending: goodput is this over `durationMs`. */
  readonly okInWindow: number;
  /** Latency of the 2xx answers, ms, from the scheduled send time. */
  readonly okLatency: Samples;
  /** Refusals (429, 503) by status. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Latency of the refusals, ms. */
  readonly rejectedLatency: Samples;
  /** Refusals that carried a Retry-After header. */
  readonly rejectedWithRetryAfter: number;
  /** Other answers (5xx other than 503, 4xx other than 429) by status. */
  readonly otherStatus: Readonly<Record<string, number>>;
  /** Requests abandoned at the deadline. */
  readonly timeouts: number;
  /** Connection errors (refused, reset) before an answer. */
  readonly errors: number;
  /** Most the generator ever ran behind its schedule, ms (a busy generator, not the server). */
  readonly maxLagMs: number;
}

const REFUSALS = new Set([429, 503]);

export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, durationMs, timeoutMs, pool } = options;
  const warmupMs = options.warmupMs ?? 0;
  const total = Math.max(1, Math.round((rate * (warmupMs + durationMs)) / 1000));
  /** Requests scheduled before this index belong to the warm-up. */
  const firstCounted = Math.min(total, Math.round((rate * warmupMs) / 1000));
  const okLatency = new Samples();
  const rejectedLatency = new Samples();
  const rejected: Record<string, number> = {};
  const otherStatus: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let okInWindow = 0;
  let refusals = 0;
  let withRetryAfter = 0;
  let timeouts = 0;
  let errors = 0;
  let settled = 0;
  let maxLagMs = 0;
  const start = performance.now();
  const windowStart = start + warmupMs;

  return new Promise<OpenLoopResult>((resolve) => {
    const finishIfDone = (): void => {
      if (sent === total && settled === total) {
        clearInterval(progress);
        resolve({
          rate, durationMs, sent: sent - firstCounted, ok, okInWindow, okLatency, rejected, rejectedLatency, rejectedWithRetryAfter: withRetryAfter,
          otherStatus, timeouts, errors, maxLagMs,
        });
      }
    };

    const fire = (scheduledAt: number, counted: boolean): void => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        settled++;
        if (counted) timeouts++;
        abandon();
        finishIfDone();
      }, timeoutMs);
      const abandon = pool.send((o) => {
        if (done) return;
        done = true;
        settled++;
        clearTimeout(timer);
        // A warm-up request is answered, not measured.
        if (counted) record(o, scheduledAt);
        finishIfDone();
      });
    };

    const record = (o: Outcome, scheduledAt: number): void => {
      if ('error' in o) {
        errors++;
        return;
      }
      const now = performance.now();
      const ms = now - scheduledAt;
      const status = o.status;
      if (status >= 200 && status < 300) {
        ok++;
        if (now - windowStart <= durationMs) okInWindow++;
        okLatency.add(ms);
      } else if (REFUSALS.has(status)) {
        refusals++;
        rejected[status] = (rejected[status] ?? 0) + 1;
        rejectedLatency.add(ms);
        if (o.retryAfter) withRetryAfter++;
      } else {
        otherStatus[status] = (otherStatus[status] ?? 0) + 1;
      }
    };

    // Send every request whose scheduled time has come; a late tick sends the backlog at once.
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
      while (sent < due) {
        const scheduledAt = start + (sent * 1000) / rate;
        const counted = sent >= firstCounted;
        if (counted) maxLagMs = Math.max(maxLagMs, now - scheduledAt);
        if (sent === firstCounted) options.onWindowStart?.();
        sent++;
        fire(scheduledAt, counted);
      }
      if (sent < total) setTimeout(tick, 1);
      else finishIfDone();
    };
    const progress = setInterval(() => {
      options.onProgress?.({ elapsedMs: performance.now() - start, sent, ok, rejected: refusals, failed: timeouts + errors, inFlight: sent - settled });
    }, options.progressMs ?? 500);
    tick();
  });
}
