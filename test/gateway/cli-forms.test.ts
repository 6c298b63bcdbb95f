// Each documented form of `sluice gateway`, spawned for real against an upstream on loopback.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const slowUpstream = (ms: number) => upstream((req, res) => setTimeout(() => res.end(`ok ${req.url}`), ms));

describe('sluice gateway flag forms', () => {
  it('--concurrency 50 --queue-timeout 100ms: proxies, and refuses 503 + Retry-After beyond the limit and the wait', async () => {
    const up = await slowUpstream(300);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '2', '--queue-timeout', '100ms']);
    const first = await get(`${gw.url}/a?b=1`);
    expect(first.status).toBe(200);
    expect(first.body).toBe('ok /a?b=1');
    const replies = await Promise.all(Array.from({ length: 8 }, () => get(`${gw.url}/x`)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBe(2);
    const refused = replies.filter((r) => r.status === 503);
    expect(refused.length).toBe(6);
    for (const r of refused) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['content-type']).toBe('application/problem+json');
    }
    // The documented literal form parses too.
    const doc = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '50', '--queue-timeout', '100ms']);
    expect((await get(`${doc.url}/`)).status).toBe(200);
  });

  it('--rate 2000/s --burst 100: RateLimit headers, then 429 + Retry-After past the burst', async () => {
    const up = await slowUpstream(0);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '6/min', '--burst', '3']);
    // 6/min refills a token every 10 s: five requests in a row meet an empty bucket however slow the machine.
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await get(`${gw.url}/r`));
    expect(replies.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replies[0]!.headers['ratelimit-policy']).toBe('"default";q=3;w=30');
    const last = replies[4]!;
    expect(last.status).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const doc = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '2000/s', '--burst', '100']);
    const r = await get(`${doc.url}/`);
    expect(r.status).toBe(200);
    // A burst of 100 lasts 50 ms at 2000/s: w is a whole second, and q the quota over it (q=100;w=1 told clients 100 per second).
    expect(r.headers['ratelimit-policy']).toBe('"default";q=2000;w=1');
  });

  it('--concurrency adaptive: an adaptive limit, visible in /status', async () => {
    const up = await slowUpstream(5);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', 'adaptive']);
    for (let i = 0; i < 5; i++) expect((await get(`${gw.url}/`)).status).toBe(200);
    const status = JSON.parse((await get(`${gw.adminUrl}/status`)).body);
    const gate = status.policies[0].gates.find((g: { kind: string }) => g.kind === 'concurrency');
    expect(gate.limit).toBeGreaterThanOrEqual(1);
    expect(status.counters.admitted).toBe(5);
  });

  it('--config sluice.yaml: routes by path and method to named policies', async () => {
    const up = await slowUpstream(0);
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
upstreams:
  app: { url: ${up.url} }
policies:
  strict:
    rateLimits: [{ rate: 1/min, burst: 1 }]
routes:
  - { name: writes, path: /api, methods: [POST], policy: strict }
  - { name: rest, path: / }
`,
    );
    const gw = await gateway(['gateway', '--config', file]);
    expect((await get(`${gw.url}/api/x`, { method: 'POST' })).status).toBe(200);
    expect((await get(`${gw.url}/api/x`, { method: 'POST' })).status).toBe(429);
    expect((await get(`${gw.url}/api/x`)).status).toBe(200);
    expect((await get(`${gw.url}/apix`, { method: 'POST' })).status).toBe(200);
  });
});
