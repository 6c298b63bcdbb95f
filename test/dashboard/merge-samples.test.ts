import { describe, expect, it } from 'vitest';
import { mergeGroupSamples } from '../../src/dashboard/index.js';
import type { GroupSample } from '../../src/dashboard/index.js';

const base: GroupSample = {
  name: 'api',
  admitted: 0,
  refused: {},
  admittedPerSec: 0,
  refusedPerSec: {},
  shadowPerSec: {},
  inFlight: 0,
  limit: null,
  queued: 0,
  waitP50Ms: null,
  waitP99Ms: null,
  latencyP50Ms: null,
  latencyP99Ms: null,
  breaker: null,
  pressure: null,
  topTenants: [],
  info: {},
};

describe('mergeGroupSamples: one dashboard over several processes', () => {
  it('adds counts, rates, in-flight, queues and limits; keeps the slowest quantile and the worst state; adds tenants up', () => {
    const a: GroupSample = { ...base, admitted: 10, refused: { concurrency: 2 }, admittedPerSec: 5, refusedPerSec: { concurrency: 1 }, inFlight: 3, limit: 4, queued: 1, latencyP99Ms: 20, waitP50Ms: 1, breaker: 'closed', pressure: { level: 'ok', pressure: 0.1, signals: [] }, topTenants: [['t1', 5], ['t2', 1]] };
    const b: GroupSample = { ...base, admitted: 7, refused: { concurrency: 1, rate_limited: 4 }, admittedPerSec: 2.5, refusedPerSec: { rate_limited: 2 }, inFlight: 1, limit: 2, queued: 0, latencyP99Ms: 35, waitP50Ms: null, breaker: 'half-open', pressure: { level: 'slow', pressure: 0.6, signals: [] }, topTenants: [['t2', 6]] };
    const other: GroupSample = { ...base, name: 'batch', admitted: 1 };
    const [api, batch] = mergeGroupSamples([[a, other], [b]], 1);
    expect(api).toMatchObject({ name: 'api', admitted: 17, refused: { concurrency: 3, rate_limited: 4 }, admittedPerSec: 7.5, refusedPerSec: { concurrency: 1, rate_limited: 2 }, inFlight: 4, limit: 6, queued: 1, latencyP99Ms: 35, waitP50Ms: 1, breaker: 'half-open' });
    expect(api!.pressure!.level).toBe('slow');
    expect(api!.topTenants).toEqual([['t2', 7]]);
    expect(batch).toMatchObject({ name: 'batch', admitted: 1, limit: null });
  });

  it('an open breaker anywhere shows open; no processes, no groups', () => {
    const [g] = mergeGroupSamples([[{ ...base, breaker: 'open' }], [{ ...base, breaker: 'closed' }]]);
    expect(g!.breaker).toBe('open');
    expect(mergeGroupSamples([])).toEqual([]);
  });
});
