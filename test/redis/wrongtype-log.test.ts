// A key of another type under the store's keyPrefix (hostile-ops): WRONGTYPE is not an outage
// (onStoreError does not hide it, docs/errors.md), so each request of the route is answered
// 500 admission_failed — and each wrote an error line of its own, a line per request under
// load. Now the first failure of a route and error is logged at once and the rest of that
// second as one line with its count, as refusals are.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, tempDir, upstream } from '../gateway/helpers.js';
import { sharedRedis, unique, until } from './servers.js';

const svc = await sharedRedis();
afterEach(cleanup);

describe.skipIf(!svc.up)('a key of another type under the keyPrefix', () => {
  it('40 requests answered 500: one error line at once, the others counted in one more', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const keyPrefix = `${unique('wrongtype')}:`;
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
store: { url: "${svc.url}", keyPrefix: "${keyPrefix}", timeout: 1s }
upstreams: { app: { url: ${up.url} } }
policies: { p: { rateLimits: [{ rate: 1000/s, burst: 1000 }] } }
routes: [{ path: /, policy: p }]
`,
    );
    const gw = await gateway(['gateway', '--config', file]);
    expect((await get(`${gw.url}/`)).status).toBe(200);
    const redis = new Redis(svc.url);
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) await redis.multi().del(k).lpush(k, 'another program').exec();
      const from = gw.lines.length;
      const statuses = [];
      for (let i = 0; i < 40; i++) statuses.push((await get(`${gw.url}/`)).status);
      expect(statuses).toEqual(Array(40).fill(500));
      const failed = (): Record<string, unknown>[] =>
        gw.lines
          .slice(from)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((o) => o['msg'] === 'admission failed');
      // The count's line comes at the end of its second (a bound, not a figure).
      expect(await until(() => failed().reduce((n, o) => n + (typeof o['count'] === 'number' ? o['count'] : 1), 0) >= 40, 10_000)).toBe(true);
      const lines = failed();
      expect(lines.length).toBeLessThan(10);
      expect(String(lines[0]!['error'])).toContain('WRONGTYPE');
      expect(lines.reduce((n, o) => n + (typeof o['count'] === 'number' ? o['count'] : 1), 0)).toBe(40);
    } finally {
      await redis.del(...(await redis.keys(`${keyPrefix}*`)));
      redis.disconnect();
    }
  }, 60_000);
});
