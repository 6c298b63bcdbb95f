// A request the rate limit refuses does not want a slot: it must not cut a slow reader for one.
// Slow readers yield their concurrency slots to requests that reach the concurrency gate to
// find every slot taken (slow-readers.ts); the gate is the policy's last, after its rate limits.
// Until review21 room was made before the policy decided, so each 429 cut a slow reader.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, PolicyConfig } from '../../src/gateway/index.js';
import { GATEWAY_DEFAULTS } from '../../src/gateway/defaults.js';
import { nonReaders, writeBig } from './big-response.js';
import { cleanup, get, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

/** An upstream (/big: 16 MB, /slow: 'slow' after 3 s, else 'small') behind a gateway of one route with `policy`. */
async function gatewayWith(policy: PolicyConfig): Promise<Gateway> {
  const up = await upstream((req, res) => {
    req.resume();
    if (req.url === '/big') writeBig(res, 256);
    else if (req.url === '/slow') setTimeout(() => res.end('slow'), 3_000);
    else res.end('small');
  });
  return startInProcess({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    server: { responseBuffer: '64kb', writeTimeout: '5m' },
    upstreams: { app: { url: up.url, timeout: '20s' } },
    routes: [{ path: '/', policy }],
  });
}

describe('slow readers and requests that want no slot', () => {
  it('a rate-refused request cuts no slow reader', { timeout: 60_000 }, async () => {
    const gw = await gatewayWith({ concurrency: 2, rateLimits: [{ rate: '2/min', burst: 2 }] });
    nonReaders(gw.url, 2);
    expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 2, 20)).toBe(true);
    await sleep(GATEWAY_DEFAULTS.server.slowReaderCutAfterMs);
    for (let i = 0; i < 40; i++) {
      const a = await get(`${gw.url}/small`);
      expect(a.status).toBe(429);
      await sleep(100);
    }
    expect(gw.status().counters.slowReadersCut).toBe(0);
  });
});

describe('slow readers and a concurrency limit that refuses early', () => {
  it('a request that would wait too long in the queue takes a slow reader\'s slot, not a 503 queue_timeout', { timeout: 60_000 }, async () => {
    const gw = await gatewayWith({ concurrency: { limit: 2, queue: 10, queueTimeout: '1s' } });
    // Service time measured: 3 s a request, so a full gate's queue is a wait of over 1 s.
    expect((await Promise.all([get(`${gw.url}/slow`), get(`${gw.url}/slow`)])).map((a) => a.status)).toEqual([200, 200]);
    nonReaders(gw.url, 2);
    expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 2, 20)).toBe(true);
    await sleep(GATEWAY_DEFAULTS.server.slowReaderCutAfterMs);
    let a = await get(`${gw.url}/small`);
    // The kernel's buffers take a non-reader's bytes for a while: asked until one is slow enough.
    for (let i = 0; i < 100 && a.status === 503 && gw.status().counters.slowReadersCut === 0; i++) {
      await sleep(100);
      a = await get(`${gw.url}/small`);
    }
    expect(`${a.status} ${a.body}`).toBe('200 small');
  });
});
