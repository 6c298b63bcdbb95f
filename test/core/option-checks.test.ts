// Options checked through the core helpers (optBoolean, optFunction: src/core/options.ts) instead
// of checks written out in each module: the same message for each, "<option>: expected <what>,
// received <value>", pinned here for every option whose check moved to a helper.
import { describe, expect, it } from 'vitest';
import { consecutiveFailures } from '../../src/breaker/index.js';
import { breakerConfig } from '../../src/breaker/options.js';
import { admission } from '../../src/express/middleware.js';
import { HttpAdmission } from '../../src/http/index.js';
import { metricsConfig } from '../../src/metrics/options.js';
import { TokenBucket } from '../../src/rate/index.js';
import { AdaptiveThrottle } from '../../src/retry/index.js';
import { retryConfig } from '../../src/retry/options.js';

const bad = 7 as never;

describe('options checked by the core helpers', () => {
  const cases: [string, () => unknown, string][] = [
    ['a rate gate quota', () => new TokenBucket({ rate: 1, burst: 1, quota: bad }), 'quota: expected a boolean, received 7'],
    ['HttpAdmission budgetMs', () => new HttpAdmission({ budgetMs: bad }), 'budgetMs: expected a function, received 7'],
    ['HttpAdmission classify', () => new HttpAdmission({ classify: bad }), 'classify: expected a function, received 7'],
    ['a route exempt', () => admission({}, { route: { exempt: bad } }), 'route.exempt: expected a boolean, received 7'],
    ['a rate limit quota', () => new HttpAdmission({ rateLimits: [{ algorithm: 'gcra', rate: 1, quota: bad }] }), '.quota: expected a boolean, received 7'],
    ['concurrency.refuseEarly', () => new HttpAdmission({ concurrency: { limit: 1, maxQueue: 1, refuseEarly: bad } }), 'concurrency.refuseEarly: expected a boolean, received 7'],
    ['AdaptiveThrottle random', () => new AdaptiveThrottle({ random: bad }), 'random: expected a function, received 7'],
    ['retry onRetry', () => retryConfig({ onRetry: bad }), 'onRetry: expected a function, received 7'],
    ['breaker classifyError', () => breakerConfig({ rule: consecutiveFailures({ threshold: 1 }), classifyError: bad }), 'classifyError: expected a function, received 7'],
    ['metrics filter', () => metricsConfig({ filter: bad }), 'filter: expected a function, received 7'],
    ['express onRefused', () => admission({}, { onRefused: bad }), 'onRefused: expected a function, received 7'],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}: ${message}`, () => {
      expect(make).toThrow(message);
    });
  }
});
