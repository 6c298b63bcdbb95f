// A key of another type under the store's keyPrefix (hostile-ops): every request of the route
// is answered 500 admission_failed, WRONGTYPE not being an outage. Until then /status still
// said the store was 'shared' and healthy and /metrics had nothing an alert rule could use:
// the log was the only trace. Now /status shows the route failing, with the error and a
// count, and /metrics counts failed admissions by route and reason. /readyz stays 200: every
// instance shares the Redis, so taking this one out of a load balancer helps nobody
// (docs/gateway.md).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get } from '../gateway/helpers.js';
import { sharedRedis, until } from './servers.js';
import { poisonedGateway } from './wrongtype.js';

const svc = await sharedRedis();
afterEach(cleanup);

interface Failures {
  count: number;
  failing: boolean;
  reason?: string;
  lastError?: string;
  lastAt?: string;
}

async function routeFailures(adminUrl: string): Promise<Record<string, Failures>> {
  const s = JSON.parse((await get(`${adminUrl}/status`)).body) as { routes: { name: string; admissionFailures: Failures }[] };
  return Object.fromEntries(s.routes.map((r) => [r.name, r.admissionFailures]));
}

describe.skipIf(!svc.up)('admission failing on a key of another type: /status, /metrics, /readyz', () => {
  it.each([1, 2])('workers: %i', async (workers) => {
    // Two policies of different rates: keys of their own. Only api's are there to be replaced.
    const yaml = `server: { workers: ${workers} }
policies: { p: { rateLimits: [{ rate: 1000/s, burst: 1000 }] }, q: { rateLimits: [{ rate: 999/s, burst: 1000 }] } }
routes: [{ name: api, path: /api, policy: p }, { name: other, path: /, policy: q }]`;
    const { gw } = await poisonedGateway(svc.url, yaml, Array<string>(2 * workers).fill('/api'));
    expect(await routeFailures(gw.adminUrl)).toEqual({ api: { count: 0, failing: false }, other: { count: 0, failing: false } });
    const before = (await get(`${gw.adminUrl}/metrics`)).body;
    expect(before).toContain('# TYPE sluice_admission_failures_total counter');
    expect(before).not.toMatch(/^sluice_admission_failures_total\{/m);

    for (let i = 0; i < 6; i++) {
      const r = await get(`${gw.url}/api`);
      expect(r.status).toBe(500);
      expect(r.body).toContain('admission_failed');
    }
    expect((await get(`${gw.url}/`)).status).toBe(200);

    // With workers, the primary's /status is theirs of the last second.
    expect(await until(async () => (await routeFailures(gw.adminUrl))['api']?.count === 6, 10_000)).toBe(true);
    const failures = await routeFailures(gw.adminUrl);
    expect(failures['api']).toMatchObject({ count: 6, failing: true, reason: 'store_wrongtype' });
    expect(failures['api']!.lastError).toContain('WRONGTYPE');
    expect(Date.parse(failures['api']!.lastAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(failures['other']).toEqual({ count: 0, failing: false });

    // A counter an alert rule can use, by route and reason (with workers, a series per worker).
    const samples = [...(await get(`${gw.adminUrl}/metrics`)).body.matchAll(/^sluice_admission_failures_total\{([^}]*)\} (\d+)$/gm)];
    expect(samples.length).toBeGreaterThan(0);
    for (const m of samples) expect(m[1]).toMatch(/route="api",reason="store_wrongtype"/);
    expect(samples.reduce((n, m) => n + Number(m[2]), 0)).toBe(6);

    // Ready: every instance shares this Redis, so taking this one out of the balancer helps nobody.
    const ready = await get(`${gw.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toBe('ready\n');
  }, 90_000);
});
