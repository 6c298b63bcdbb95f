// The closed loop's "node limit floor" (bench/gateway/limit-floor.ts) must limit as the
// gateway does, or its CPU per answer is not a floor for the same job: at most `concurrency`
// requests at the upstream, waiters served in arrival order, a waiter past the queue timeout
// answered 503 with Retry-After, the upstream's answer relayed with its status and headers —
// through each of its HTTP/1 clients (bench/gateway/floor-upstream.ts).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FloorUpstreamSettings } from '../../bench/gateway/floor-upstream.js';
import { startLimitFloor } from '../../bench/gateway/limit-floor.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An upstream that holds every request until told to answer it; it counts how many it holds at most. */
async function holdingUpstream(): Promise<{ url: string; held: { path: string; res: ServerResponse }[]; peak: () => number; arrived: () => Promise<void> }> {
  const held: { path: string; res: ServerResponse }[] = [];
  let inFlight = 0;
  let peak = 0;
  let wake: (() => void) | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    res.on('finish', () => inFlight--);
    held.push({ path: req.url ?? '', res });
    wake?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    peak: () => peak,
    arrived: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const CLIENTS: [string, FloorUpstreamSettings][] = [
  ['undici Pool', { client: 'undici', pipelining: 1, connections: 4 }],
  ['undici Pool, pipelining 2', { client: 'undici', pipelining: 2, connections: 4 }],
  ['node:http Agent', { client: 'node', pipelining: 1, connections: 4 }],
];

describe.each(CLIENTS)('node limit floor through %s', (_, client) => {
  it('holds the upstream to its slots, serves waiters in arrival order, and relays the answer', async () => {
    const up = await holdingUpstream();
    const floor = await startLimitFloor(up.url, { ...client, concurrency: 1, queueTimeoutMs: 60_000 });
    closers.push(floor.close);
    let arrived = up.arrived();
    const answers = ['/a', '/b', '/c'].map((p) => fetch(`${floor.url}${p}`).then(async (r) => ({ p, status: r.status, tag: r.headers.get('x-tag'), body: await r.text() })));
    await arrived;
    await until(() => floor.waiting() === 2);
    // Only the first reaches the upstream; the others wait for its slot, in the order they came.
    for (const expected of ['/a', '/b', '/c']) {
      expect(up.held.map((h) => h.path)).toEqual([expected]);
      const { res } = up.held.shift()!;
      if (expected !== '/c') arrived = up.arrived();
      res.writeHead(201, { 'x-tag': expected, 'content-type': 'text/plain' }).end(`done ${expected}`);
      if (expected !== '/c') await arrived;
    }
    expect(await Promise.all(answers)).toEqual([
      { p: '/a', status: 201, tag: '/a', body: 'done /a' },
      { p: '/b', status: 201, tag: '/b', body: 'done /b' },
      { p: '/c', status: 201, tag: '/c', body: 'done /c' },
    ]);
    expect(up.peak()).toBe(1);
  });

  it('answers a request that waited past the queue timeout 503 with Retry-After, and never sends it upstream', async () => {
    const up = await holdingUpstream();
    const floor = await startLimitFloor(up.url, { ...client, concurrency: 1, queueTimeoutMs: 20 });
    closers.push(floor.close);
    const arrived = up.arrived();
    const first = fetch(`${floor.url}/first`);
    await arrived;
    const refused = await fetch(`${floor.url}/second`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    await refused.text();
    up.held.shift()!.res.end('ok');
    expect((await first).status).toBe(200);
    expect(up.held).toEqual([]);
    expect(up.peak()).toBe(1);
  });

  it('answers 502 when the upstream is gone, and gives the slot back', async () => {
    // A port that was just listened on and closed: connections to it are refused.
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const floor = await startLimitFloor(url, { ...client, concurrency: 1, queueTimeoutMs: 60_000 });
    closers.push(floor.close);
    // One after another through one slot: the second is answered only if the first gave it back.
    for (const path of ['/a', '/b']) {
      const r = await fetch(`${floor.url}${path}`);
      expect(r.status).toBe(502);
      await r.text();
    }
  });
});
