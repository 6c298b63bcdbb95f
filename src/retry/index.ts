/** `sluice/retry`: retry with backoff, deadlines and budgets; Retry-After parsing; client-side adaptive throttling. */
export { RetryPolicy } from './retry-policy.js';
export type { RetryCallOptions } from './retry-policy.js';
export { RETRY_DEFAULTS } from './options.js';
export type { GiveUpInfo, GiveUpReason, RetryInfo, RetryOptions } from './options.js';
export type { Attempt } from './attempt.js';
export { backoffDelay, JITTERS } from './backoff.js';
export type { Jitter } from './backoff.js';
export { parseRetryAfter, parseHttpDate } from './retry-after.js';
export { defaultRetryable, defaultRetryAfter } from './retryable.js';
export { RetryBudget, RETRY_BUDGET_DEFAULTS } from './budget.js';
export type { RetryBudgetOptions, RetryBudgetStats } from './budget.js';
export { AdaptiveThrottle, ADAPTIVE_THROTTLE_DEFAULTS } from './adaptive-throttle.js';
export type { AdaptiveThrottleOptions, AdaptiveThrottleStats } from './adaptive-throttle.js';
