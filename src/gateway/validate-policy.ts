/** A policy's rules that its schema cannot state: contradictions between its keys, a cost no bucket holds, a limit too small to lease to the workers. */
import { InvalidOptionError } from '../core/errors.js';
import type { PolicyConfig } from './config-types.js';
import type { Issues, Path } from './config-issues.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import { identityHeaderIssues } from './identity-headers.js';
import { IP_OVERRIDE_EXPECTED, meteredOverrideKey } from './override-keys.js';
import { rolloutIssues } from './policy-mode.js';
import { concurrencyForm, rateCapacities } from './policy-options.js';
import { durationMs } from './units.js';

/**
 * A fixed concurrency limit is leased to the workers a few slots at a time, and a worker keeps
 * its last slot while it has had demand in the last ~100 ms (slot-lease.ts). With fewer slots
 * than workers, a request that reaches a worker without one waits until a slot moves from an
 * idle worker, or is refused without a queue: a limit of 1 on 2 workers refused ~30% of
 * sequential requests with nothing in flight when a worker never gave its last slot back
 * (hostile-3 H3), and a slot that moves only after 100 ms of idleness is still no limit to
 * serve with.
 */
export function checkLeasedLimit(p: PolicyConfig, at: Path, workers: number, issues: Issues): void {
  if (workers <= 1) return;
  const limit = concurrencyForm(p.concurrency)?.limit;
  if (typeof limit !== 'number' || limit >= workers) return;
  const path = typeof p.concurrency === 'object' ? [...at, 'concurrency', 'limit'] : [...at, 'concurrency'];
  issues.add(path, `a fixed limit >= server.workers (${workers}): with fewer slots than workers, a request reaching a worker without one waits until a slot moves from an idle worker (100 ms and more) or, without a queue, is refused (lower server.workers, or raise the limit)`);
}

/**
 * A concurrency queue server.maxQueued leaves no room for. server.maxQueued caps the requests
 * waiting in a process across all routes (request-handler.ts: one more is refused 503
 * queue_full at once), so a queue longer than the cap never fills: while it is 0 the queue never
 * holds one; above 0 the cap won silently (until metricspush: maxQueued 2 beside a queue of 5
 * refused the third request to wait). Queues adding up past the cap are fine: it is shared.
 */
export function checkQueueRoom(p: PolicyConfig, at: Path, maxQueued: number, issues: Issues): void {
  const queue = concurrencyForm(p.concurrency)?.queue ?? 0;
  if (queue <= maxQueued) return;
  const path = [...at, 'concurrency', 'queue'];
  if (maxQueued === 0) return void issues.add(path, 'no queue: no request may wait while server.maxQueued is 0, so the queue could never hold one (raise server.maxQueued, or drop the queue)');
  issues.add(path, `a queue <= server.maxQueued (${maxQueued}): at most ${maxQueued} requests wait for admission across all routes (server.maxQueued), so the queue's last ${queue - maxQueued} places could never be used: the request that would take one is refused 503 queue_full (raise server.maxQueued, or shorten the queue)`);
}

/** A request that costs more than a full bucket (of any rate limit, or any tenant's override) is refused for ever. */
export function checkCost(cost: number, p: PolicyConfig, whose: string, at: Path, issues: Issues): void {
  let least: { what: string; capacity: number } | undefined;
  try {
    for (const l of rateCapacities(p)) if (least === undefined || l.capacity < least.capacity) least = l;
  } catch (err) {
    if (err instanceof InvalidOptionError) return; // a rate limit already reported as broken
    throw err;
  }
  if (least !== undefined && cost > least.capacity) {
    issues.add(at, `a cost <= ${least.capacity} (${least.what} of ${whose}; a request that costs more than a full bucket is refused for ever)`);
  }
}

export function checkPolicy(p: PolicyConfig, at: Path, issues: Issues, stripHeaders: readonly string[] = []): void {
  for (const r of rolloutIssues(p)) issues.add([...at, r.key], r.expected, r.found);
  for (const r of identityHeaderIssues(p, stripHeaders)) issues.add([...at, ...r.key], r.expected, r.found);
  const limits = p.rateLimits ?? [];
  const names = new Set<string>();
  limits.forEach((r, i) => {
    const path = [...at, 'rateLimits', i];
    const window = r.limit !== undefined || r.window !== undefined;
    if (r.algorithm === 'sliding-window' || (r.algorithm === undefined && window)) {
      if (r.rate !== undefined) issues.add([...path, 'rate'], 'no rate with a sliding window (it counts limit per window)');
      if (r.burst !== undefined) issues.add([...path, 'burst'], 'no burst with a sliding window (it counts limit per window)');
      if (r.limit === undefined) issues.add(path, 'a limit with window', 'no limit');
      if (r.window === undefined) issues.add(path, 'a window with limit', 'no window');
    } else {
      if (window) issues.add([...path, r.limit !== undefined ? 'limit' : 'window'], `no limit or window with algorithm ${r.algorithm ?? 'gcra'} (it takes rate and burst)`);
      if (r.rate === undefined) issues.add(path, 'a rate (like 2000/s)', 'no rate');
    }
    if (limits.length > 1 && r.name === undefined) issues.add(path, 'a name (required when a policy has several rate limits)', 'no name');
    if (r.name !== undefined) {
      if (names.has(r.name)) issues.add([...path, 'name'], 'a name not used by another rate limit of this policy');
      names.add(r.name);
    }
    const metered = new Map<string, string>();
    for (const [key, o] of Object.entries(r.overrides ?? {})) {
      const op = [...path, 'overrides', key];
      const as = meteredOverrideKey(key);
      if (key.startsWith('ip:') && key.length > 3 && as === undefined) issues.add(op, IP_OVERRIDE_EXPECTED, `${JSON.stringify(key)}, which no request is metered as`);
      if (as !== undefined && metered.has(as)) issues.add(op, `one override per tenant (${JSON.stringify(metered.get(as))} is metered as ${as} too)`, JSON.stringify(key));
      if (as !== undefined) metered.set(as, key);
      // The gateway meters a request as ip:<address>, or key:<header value> with tenant: { header }:
      // an override named otherwise ("gold-customer", "key:x" under tenant ip) matched no request, without a word.
      const byHeader = typeof p.tenant === 'object';
      if (!(key.startsWith('ip:') && key.length > 3) && !(byHeader && key.startsWith('key:') && key.length > 4)) {
        issues.add(op, `a tenant as the gateway names one: ${byHeader ? '"key:<the header\'s value>" or ' : ''}"ip:<client address>"${byHeader ? '' : ' (key:... only with tenant: { header })'}`, `${JSON.stringify(key)}, which no request is metered as`);
      }
      const ow = 'limit' in o || 'window' in o;
      if (ow && 'rate' in o) issues.add(op, 'either rate (and burst) or limit and window', 'both');
      else if (ow && !('limit' in o && 'window' in o)) issues.add(op, 'both limit and window', 'one of them');
      else if (!ow && !('rate' in o)) issues.add(op, 'a rate, or a limit and window', 'neither');
    }
  });
  if (p.shed !== undefined) {
    const slow = p.shed.slowAt === undefined ? GATEWAY_DEFAULTS.shed.slowAtMs : durationMs(p.shed.slowAt);
    const reject = p.shed.rejectAt === undefined ? GATEWAY_DEFAULTS.shed.rejectAtMs : durationMs(p.shed.rejectAt);
    if (slow >= reject) issues.add([...at, 'shed', p.shed.rejectAt !== undefined ? 'rejectAt' : 'slowAt'], `slowAt (${slow} ms) < rejectAt (${reject} ms)`, 'otherwise');
  }
  if (p.breaker !== undefined && p.breaker.failureRatio === undefined) {
    for (const k of ['window', 'minimumCalls'] as const) if (p.breaker[k] !== undefined) issues.add([...at, 'breaker', k], `no ${k} without failureRatio`);
  }
  const c = concurrencyForm(p.concurrency);
  if (c === undefined) return;
  const cp = typeof p.concurrency === 'object' ? [...at, 'concurrency'] : [...at];
  if (c.limit !== 'adaptive') {
    for (const k of ['algorithm', 'initialLimit', 'minLimit', 'maxLimit'] as const) {
      if (c[k] !== undefined) issues.add([...cp, k], `no ${k} with a fixed limit (only with limit: adaptive)`);
    }
  } else {
    const min = c.minLimit ?? 1;
    if (c.maxLimit !== undefined && c.maxLimit < min) issues.add([...cp, 'maxLimit'], `an integer >= minLimit (${min})`);
    if (c.initialLimit !== undefined && (c.initialLimit < min || (c.maxLimit !== undefined && c.initialLimit > c.maxLimit))) {
      issues.add([...cp, 'initialLimit'], `an integer in [minLimit, maxLimit] ([${min}, ${c.maxLimit ?? 'the algorithm maximum'}])`);
    }
  }
  if (c.queueTimeout !== undefined && (c.queue ?? 0) === 0) issues.add([...cp, 'queueTimeout'], 'no queueTimeout without a queue (set queue >= 1)');
  if (c.discipline !== undefined && (c.queue ?? 0) === 0) issues.add([...cp, 'discipline'], 'no discipline without a queue (set queue >= 1)');
}
