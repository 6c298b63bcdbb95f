// One owner for each permit in the gateway: the forwarder ends it once, with the upstream's
// status, and everything else (a client gone, a body too large) ends the same permit through
// the same call. In process on loopback, asserting counts, states and statuses only.
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

const base = (up: string, extra: Partial<GatewayConfig> = {}): GatewayConfig => oneRoute(up, '5s', extra);

type Gw = Awaited<ReturnType<typeof startInProcess>>;
const gate = (gw: Gw, kind: string) => gw.status().policies[0]!.gates.find((g) => g.kind === kind)!;
const breakerState = (gw: Gw): unknown => (gate(gw, 'circuit-breaker') as { state?: unknown }).state;

/** An upstream that holds every request until the test lets it go. */
async function heldUpstream(): Promise<{ url: string; arrivals: () => number; cut: () => number; releaseAll: () => void }> {
  const held: ServerResponse[] = [];
  let arrivals = 0;
  let cut = 0;
  const up = await upstream((_req, res) => {
    arrivals++;
    held.push(res);
    res.on('close', () => {
      if (!res.writableFinished) cut++;
    });
  });
  return {
    url: up.url,
    arrivals: () => arrivals,
    /** Requests whose connection the gateway closed before they were answered. */
    cut: () => cut,
    releaseAll: () => {
      for (const r of held.splice(0)) if (!r.destroyed) r.end('ok');
    },
  };
}

/** Send a request, let it reach the upstream, then hang up before any answer. */
async function hangUp(url: string, path: string, arrived: () => boolean): Promise<void> {
  const u = new URL(url);
  const req = request({ host: u.hostname, port: u.port, path, agent: false });
  req.on('error', () => undefined);
  req.end();
  expect(await within(10_000, arrived)).toBe(true);
  req.destroy();
}

describe('the forwarder owns the permit', () => {
  it('clients that hang up before the answer neither open the breaker nor leak a slot; each slot is held until the upstream answers', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(base(up.url, { routes: [{ path: '/', policy: { breaker: { failures: 2, openFor: '30s' }, concurrency: 4 } }] }));
    for (let i = 1; i <= 3; i++) await hangUp(gw.url, `/gone/${i}`, () => up.arrivals() === i);
    // The upstream still has all three (a hang-up does not stop its work): their slots stay taken.
    expect(gate(gw, 'concurrency').inFlight).toBe(3);
    const ok = get(`${gw.url}/fine`);
    expect(await within(10_000, () => up.arrivals() === 4)).toBe(true);
    // Not aborted either: the upstream answers them (and the gateway drops the answers).
    expect(up.cut()).toBe(0);
    up.releaseAll();
    expect((await ok).status).toBe(200);
    expect(await within(5000, () => gate(gw, 'concurrency').inFlight === 0)).toBe(true);
    expect(gate(gw, 'concurrency').released).toBe(4);
    expect(up.cut()).toBe(0);
    // Three clients gone: not the upstream's failure, so the breaker (2 failures) is still closed.
    expect(breakerState(gw)).toBe('closed');
  });

  it('a body over maxBodySize is 413 before admission: no permit, no sample, nothing forwarded; the next request gets the slot', async () => {
    let arrivals = 0;
    const up = await upstream((req, res) => {
      arrivals++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const gw = await startInProcess(base(up.url, { server: { maxBodySize: '1kb' }, routes: [{ path: '/', policy: { breaker: { failures: 1, openFor: '30s' }, concurrency: 1 } }] }));
    // Chunked (no Content-Length): only counting the streamed body finds it too large.
    const u = new URL(gw.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/upload', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(800));
      req.end('y'.repeat(800));
    });
    expect(status).toBe(413);
    expect(await within(10_000, () => gate(gw, 'concurrency').inFlight === 0)).toBe(true);
    expect(breakerState(gw)).toBe('closed');
    const next = await get(`${gw.url}/small`, { method: 'POST', body: 'ok' });
    expect(next.status).toBe(200);
    expect(arrivals).toBe(1);
    expect(gate(gw, 'concurrency').admitted).toBe(1);
    expect(await within(10_000, () => gate(gw, 'concurrency').inFlight === 0)).toBe(true);
  });

  it('an upstream 5xx is classified once, as a failure, when the upstream answered', async () => {
    const up = await upstream((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const gw = await startInProcess(base(up.url, { routes: [{ path: '/', policy: { breaker: { failures: 2, openFor: '30s' }, concurrency: 4 } }] }));
    expect((await get(`${gw.url}/a`)).status).toBe(503);
    expect(breakerState(gw)).toBe('closed');
    expect((await get(`${gw.url}/b`)).status).toBe(503);
    expect(breakerState(gw)).toBe('open');
    const c = gate(gw, 'concurrency');
    expect(c.inFlight).toBe(0);
    expect(c.released).toBe(2);
  });
});

describe('the gateway-wide queue cap', () => {
  // Two policies whose queues each fit the cap (a queue longer than it is refused by the config check):
  // the cap binds when both would hold a request.
  it('answers 503 with Retry-After and is done: the refused request is never forwarded nor counted as queued', async () => {
    const up = await heldUpstream();
    const one = { concurrency: { limit: 1, queue: 1, queueTimeout: '10s' as const } };
    const gw = await startInProcess(base(up.url, { server: { maxQueued: 1 }, policies: { a: one, b: one }, routes: [{ path: '/a', policy: 'a' }, { path: '/b', policy: 'b' }] }));
    const first = get(`${gw.url}/a/1`);
    expect(await within(10_000, () => up.arrivals() === 1)).toBe(true);
    const second = get(`${gw.url}/a/2`);
    expect(await within(10_000, () => gw.status().queued === 1)).toBe(true);
    const other = get(`${gw.url}/b/1`);
    expect(await within(10_000, () => up.arrivals() === 2)).toBe(true);
    // b's queue has room; the gateway's does not.
    const third = await get(`${gw.url}/b/2`);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body)).toMatchObject({ reason: 'queue_full' });
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(gw.status().queued).toBe(1);
    expect(gate(gw, 'concurrency').queued).toBe(1);
    expect(gw.status().policies[1]!.gates.find((g) => g.kind === 'concurrency')!.queued).toBe(0);
    up.releaseAll();
    expect(await within(10_000, () => up.arrivals() === 3)).toBe(true);
    up.releaseAll();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await other).status).toBe(200);
    await sleep(50);
    expect(up.arrivals()).toBe(3);
    expect(gw.status().queued).toBe(0);
    expect(gw.status().counters).toMatchObject({ admitted: 3, rejected: 1 });
    expect(await within(10_000, () => gate(gw, 'concurrency').inFlight === 0)).toBe(true);
  });
});

describe('a request waiting in the queue', () => {
  it('leaves the queue as soon as its client resets the connection, and is never forwarded (its wait has no AbortController: a WaitSignal)', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(base(up.url, { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '10s' } } }] }));
    const first = get(`${gw.url}/1`);
    expect(await within(10_000, () => up.arrivals() === 1)).toBe(true);
    const u = new URL(gw.url);
    const leaving = request({ host: u.hostname, port: u.port, path: '/2', agent: false });
    leaving.on('error', () => undefined);
    leaving.end();
    expect(await within(10_000, () => gate(gw, 'concurrency').queued === 1)).toBe(true);
    // A reset, not a FIN: a FIN alone is a half-close the gateway still answers (half-close.test.ts).
    leaving.socket!.resetAndDestroy();
    expect(await within(10_000, () => gate(gw, 'concurrency').queued === 0 && gw.status().queued === 0)).toBe(true);
    expect(gw.status().counters.leftQueue).toBe(1);
    const third = get(`${gw.url}/3`);
    expect(await within(10_000, () => gate(gw, 'concurrency').queued === 1)).toBe(true);
    up.releaseAll();
    expect(await within(10_000, () => up.arrivals() === 2)).toBe(true);
    up.releaseAll();
    expect((await first).status).toBe(200);
    expect((await third).status).toBe(200);
    await sleep(50);
    // The one that left was never forwarded: the upstream saw /1 and /3 only.
    expect(up.arrivals()).toBe(2);
    expect(await within(10_000, () => gate(gw, 'concurrency').inFlight === 0)).toBe(true);
  });
});

describe('/status lists every gate the policy asks', () => {
  it('a quota limit is there beside the burst limit, with its key count, in the order a request meets them', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      base(up.url, {
        routes: [
          {
            path: '/',
            policy: {
              rateLimits: [
                { name: 'burst', rate: '100/s', burst: 10 },
                { name: 'daily', rate: '1000/d', burst: 1000, quota: true },
              ],
              concurrency: 4,
            },
          },
        ],
      }),
    );
    expect((await get(`${gw.url}/a`)).status).toBe(200);
    const gates = gw.status().policies[0]!.gates as readonly { name: string; kind: string; keys?: number; admitted: number }[];
    expect(gates.map((g) => g.kind)).toEqual(['keyed-rate', 'keyed-rate', 'concurrency']);
    expect(gates[0]!.name).toMatch(/-burst$/);
    expect(gates[1]).toMatchObject({ keys: 1, admitted: 1 });
    expect(gates[1]!.name).toMatch(/-daily$/);
  });
});
