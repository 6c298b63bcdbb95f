/** `sluice/client`: a fetch wrapper with per-origin pacing, throttling, breaker, concurrency limit and safe retries. */
export { HttpClient, createClient } from './client.js';
export type { CallOptions } from './client.js';
export { HTTP_CLIENT_DEFAULTS } from './options.js';
export type { FetchFunction, HttpClientOptions, HttpRetryOptions } from './options.js';
export type { OriginStats } from './origin.js';
export { Pacer, PACER_DEFAULTS } from './pacer.js';
export type { PacerOptions, PacerStats } from './pacer.js';
export { parseRateLimit, parseRateLimitPolicy, readRateLimit } from './rate-limit-headers.js';
export type { HeadersLike, QuotaPolicy, ServerQuota } from './rate-limit-headers.js';
export { IDEMPOTENT_METHODS, isIdempotent, isReplayable } from './replay.js';
