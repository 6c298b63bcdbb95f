// A request the rate limit refuses does not want a slot: it must not cut a slow reader for one.
// Slow readers yield their concurrency slots to requests that reach the concurrency gate to
// find every slot taken (slow-readers.ts); the gate is the policy's last, after its rate limits.
// Until review21 room was made before the policy decided, so each 429 cut a slow reader.
import { afterEach, describe, expect, it } from 'vitest';
import { CUT_AFTER_MS } from '../../src/gateway/slow-readers.js';
import { nonReaders, writeBig } from './big-response.js';
import { cleanup, get, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

describe('slow readers and requests that want no slot', () => {
  it('a rate-refused request cuts no slow reader', { timeout: 60_000 }, async () => {
    const up = await upstream((req, res) => {
      req.resume();
      if (req.url === '/big') writeBig(res, 256);
      else res.end('small');
    });
    const gw = await startInProcess({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { port: 0 },
      server: { responseBuffer: '64kb', writeTimeout: '5m' },
      upstreams: { app: { url: up.url, timeout: '20s' } },
      routes: [{ path: '/', policy: { concurrency: 2, rateLimits: [{ rate: '2/min', burst: 2 }] } }],
    });
    nonReaders(gw.url, 2);
    expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 2, 20)).toBe(true);
    await sleep(CUT_AFTER_MS);
    for (let i = 0; i < 40; i++) {
      const a = await get(`${gw.url}/small`);
      expect(a.status).toBe(429);
      await sleep(100);
    }
    expect(gw.status().counters.slowReadersCut).toBe(0);
  });
});
