// The response relayed through the gateway's undici pool, in process on loopback: repeated
// headers, the admission's RateLimit headers beside the upstream's, and a client that goes
// away mid-response (the upstream request is aborted, the permit released) or before it (the
// upstream is left to answer, and its slot stays taken until it does).
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, onCleanup, oneRoute, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

const start = startInProcess;
const base = (up: string, extra: Partial<GatewayConfig> = {}): GatewayConfig => oneRoute(up, '5s', extra);

/** The upstream's view of one request: when its response closed before it ended. */
interface Seen {
  cutAt: number;
}

function watchCut(res: ServerResponse, seen: Seen): void {
  res.on('close', () => {
    if (!res.writableFinished) seen.cutAt = Date.now();
  });
}

const concurrencyGate = (gw: Awaited<ReturnType<typeof start>>) => gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!;

describe('response headers', () => {
  it('an upstream response with two Set-Cookie headers reaches the client with both, in order', async () => {
    const up = await upstream((_req, res) => {
      res.setHeader('Set-Cookie', ['session=abc; HttpOnly', 'theme=dark; Path=/']);
      res.end('ok');
    });
    // Without a policy (no own headers) and with one (own RateLimit headers in the same block).
    const gw = await start(base(up.url, { routes: [{ path: '/plain' }, { path: '/', policy: { rateLimits: [{ name: 'api', rate: '100/s', burst: 10 }] } }] }));
    for (const path of ['/plain', '/limited']) {
      const r = await get(`${gw.url}${path}`);
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok');
      expect(r.headers['set-cookie']).toEqual(['session=abc; HttpOnly', 'theme=dark; Path=/']);
    }
  });

  it("an admitted response carries the rate policy's RateLimit headers; the upstream's own RateLimit-Policy items join the gateway's (hostile-19)", async () => {
    const up = await upstream((req, res) => {
      if (req.url === '/own') res.setHeader('RateLimit-Policy', '"upstream";q=1000;w=60');
      res.end('ok');
    });
    // The rate gate's clock stands still: the six requests below see no refill however long the
    // host takes over them (one unit every 12 s of the system clock was not enough beside a CPU hog).
    const gw = await start(base(up.url, { routes: [{ path: '/', policy: { rateLimits: [{ name: 'api', rate: '5/m', burst: 5 }] } }] }), { clock: new VirtualClock(1000) });
    const plain = await get(`${gw.url}/x`);
    expect(plain.status).toBe(200);
    expect(plain.headers['ratelimit']).toMatch(/^"api";r=4;t=\d+$/);
    expect(plain.headers['ratelimit-policy']).toBe('"api";q=5;w=60');

    const own = await get(`${gw.url}/own`);
    expect(own.status).toBe(200);
    // Both lists, the gateway's items first: until hostile-19 the upstream's replaced the gateway's,
    // and the gateway's RateLimit item "api" went out beside a RateLimit-Policy that did not list it.
    expect(own.headers['ratelimit-policy']).toBe('"api";q=5;w=60, "upstream";q=1000;w=60');
    expect(own.headers['ratelimit']).toMatch(/^"api";r=3;t=\d+$/);

    // Over the burst: refused by the gateway with its own RateLimit headers, the upstream not asked.
    for (let i = 0; i < 3; i++) await get(`${gw.url}/x`);
    const refused = await get(`${gw.url}/own`);
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-policy']).toBe('"api";q=5;w=60');
    expect(refused.headers['ratelimit']).toMatch(/^"api";r=0;t=\d+$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('a client that goes away', () => {
  it('mid-response from a slowly streaming upstream: the upstream request is aborted and the permit released', async () => {
    const seen: Seen = { cutAt: 0 };
    let timer: NodeJS.Timeout | undefined;
    const up = await upstream((_req, res: ServerResponse) => {
      watchCut(res, seen);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      // 10 s of body at one chunk per 50 ms, unless cut.
      let n = 0;
      timer = setInterval(() => {
        if (res.destroyed || ++n > 200) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(`chunk ${n}\n`);
      }, 50);
    });
    onCleanup(async () => clearInterval(timer));
    const gw = await start(base(up.url, { routes: [{ path: '/', policy: { concurrency: 4 } }] }));
    const u = new URL(gw.url);
    // The client reads the first chunk, then goes away.
    const { status, leftAt } = await new Promise<{ status: number; leftAt: number }>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/stream', agent: false }, (res: IncomingMessage) => {
        res.once('data', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, leftAt: Date.now() });
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no response body within 3 s')), 3000).unref();
      req.end();
    });
    expect(status).toBe(200);
    expect(await within(10_000, () => seen.cutAt > 0)).toBe(true);
    expect(seen.cutAt - leftAt).toBeLessThan(5000);
    expect(await within(10_000, () => concurrencyGate(gw).inFlight === 0)).toBe(true);
    // A client that left is not the upstream's failure.
    expect(gw.status().counters.upstreamErrors).toBe(0);
    expect(gw.status().counters.upstreamTimeouts).toBe(0);
  });

  it('before the response: the upstream is left to answer, its slot taken until it does; the answer goes nowhere', async () => {
    const seen: Seen = { cutAt: 0 };
    let slow: ServerResponse | undefined;
    let slowAnswered = false;
    let nextCameAfterTheAnswer: boolean | undefined;
    const up = await upstream((req, res) => {
      if (req.url === '/slow') {
        watchCut(res, seen);
        slow = res;
        return;
      }
      nextCameAfterTheAnswer = slowAnswered;
      res.end('next');
    });
    const gw = await start(base(up.url, { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '10s' } } }] }));
    const u = new URL(gw.url);
    const req = request({ host: u.hostname, port: u.port, path: '/slow', agent: false });
    req.on('error', () => undefined);
    req.end();
    expect(await within(10_000, () => slow !== undefined)).toBe(true);
    req.destroy();
    // The upstream still works on /slow (an abort would not stop it): the one slot is its own
    // until it answers, so /next must not reach the upstream before that. A gateway that gave
    // the slot back at the hang-up would send /next at once: give it the time to.
    const next = get(`${gw.url}/next`);
    await within(500, () => nextCameAfterTheAnswer !== undefined);
    expect(concurrencyGate(gw).inFlight).toBe(1);
    slowAnswered = true;
    slow!.end('late');
    expect((await next).status).toBe(200);
    expect(nextCameAfterTheAnswer).toBe(true);
    // Never cut: the gateway read the answer (and dropped it).
    expect(seen.cutAt).toBe(0);
    expect(await within(5000, () => concurrencyGate(gw).inFlight === 0)).toBe(true);
    expect(gw.status().counters.upstreamErrors).toBe(0);
    expect(gw.status().counters.upstreamTimeouts).toBe(0);
  });
});
