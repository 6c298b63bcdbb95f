/** Every default of the gateway, in one place (config-types.ts documents each). */
import { deepFreeze } from '../core/deep-freeze.js';
export const GATEWAY_DEFAULTS = deepFreeze({
  listen: { host: '0.0.0.0', port: 8080, backlog: 4096 },
  admin: { enabled: true, host: '127.0.0.1', port: 9901, tenantKeys: 'hash' },
  server: {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 5_000,
    maxHeaderSize: 16 * 1024,
    maxBodySize: 10 * 1024 * 1024,
    bodyTimeoutMs: 30_000,
    bodyMemory: 256 * 1024 * 1024,
    responseBuffer: 1024 * 1024,
    responseMemory: 256 * 1024 * 1024,
    writeTimeoutMs: 30_000,
    slowReaderCutAfterMs: 500,
    minReadRate: 1024,
    maxConnections: 10_000,
    maxQueued: 10_000,
    pauseRefusedMs: 1_000,
    pauseRefusedLoad: 0.9,
    workers: 1,
    workerTimeoutMs: 30_000,
    workerStartTimeoutMs: 120_000,
  },
  drain: { timeoutMs: 30_000, retryAfterMs: 5_000 },
  log: { level: 'info' },
  upstream: { timeoutMs: 30_000, idleTimeoutMs: 60_000, maxSockets: 256 },
  rateLimit: { maxKeys: 100_000 },
  concurrency: { algorithm: 'gradient2', queueTimeoutMs: 5_000 },
  breaker: { failures: 5, openForMs: 10_000, windowMs: 10_000, minimumCalls: 20 },
  shed: { slowAtMs: 50, rejectAtMs: 200, intervalMs: 1_000 },
  /** Flag form: `--queue-timeout` without `--queue` gives the concurrency limit this queue. */
  flagQueue: 1024,
  /** Retry-After of a refusal whose gate could not tell (it never comes without one). */
  retryAfterS: 1,
  /** Rejections are logged as one line per route and reason per this period. */
  rejectionLogMs: 1_000,
  /** Sample period of the signal-latency measurement (M10) behind /metrics and /dashboard. */
  signalLatencyMs: 100,
  /** A changed config file is read this long after its last change event. */
  watchDebounceMs: 200,
} as const);
