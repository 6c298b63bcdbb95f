// A refused keep-alive connection is not read again until its Retry-After has passed
// (server.pauseRefused caps it): a client that re-sends at once waits in TCP, not in the
// gateway's event loop. Real sockets on loopback; assertions on order and lower bounds only.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

interface RawReply {
  readonly status: number;
  readonly head: string;
  readonly at: number;
}

/** A raw keep-alive HTTP/1.1 client: one socket, replies parsed in order (bodies have Content-Length). */
function rawClient(url: string): { send(path?: string, headers?: Record<string, string>): void; next(): Promise<RawReply>; socket: Socket; closed: Promise<void> } {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let buf = '';
  const replies: RawReply[] = [];
  const waiting: ((r: RawReply) => void)[] = [];
  socket.setEncoding('latin1').on('data', (d: string) => {
    buf += d;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      buf = buf.slice(end + 4 + len);
      const r = { status: Number(head.slice(9, 12)), head, at: performance.now() };
      const w = waiting.shift();
      if (w !== undefined) w(r);
      else replies.push(r);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    socket,
    closed,
    send: (path = '/', headers = {}) => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`),
    next: () => {
      const r = replies.shift();
      return r !== undefined ? Promise.resolve(r) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** An upstream that holds every request until `release()`; counts what it was sent. */
async function holdingUpstream(): Promise<{ url: string; seen: () => number; release: () => void }> {
  const held: (() => void)[] = [];
  let seen = 0;
  const up = await upstream((_req, res) => {
    seen++;
    held.push(() => res.end('ok'));
  });
  return { url: up.url, seen: () => seen, release: () => held.splice(0).forEach((f) => f()) };
}

const withLimit1 = (url: string, server: NonNullable<GatewayConfig['server']>, extra: Partial<GatewayConfig> = {}): GatewayConfig =>
  oneRoute(url, '10s', {
    server,
    policies: { one: { concurrency: 1 } },
    routes: [{ path: '/', policy: 'one' }],
    ...extra,
  });

/** Pauses up to 20 s (pauseRefused; half the keep-alive and header timeouts is more), always engaged. */
const LONG_PAUSES = { pauseRefused: '20s', pauseRefusedLoad: 0, keepAliveTimeout: '45s', headersTimeout: '45s' } as const;

/**
 * A gateway of limit 1 whose gate's clock saw a first request held 60 s: every refusal's
 * Retry-After is a minute, so each pause is 20 s less up to a quarter, and a request served
 * within 10 s was woken, not read at its pause's end. The slot is held by `holder`'s second request.
 */
async function slotHeldLong(): Promise<{ up: Awaited<ReturnType<typeof holdingUpstream>>; gw: Awaited<ReturnType<typeof startInProcess>>; holder: ReturnType<typeof rawClient> }> {
  const up = await holdingUpstream();
  const clock = new VirtualClock(1000);
  const gw = await startInProcess(withLimit1(up.url, LONG_PAUSES), { clock });
  const holder = rawClient(gw.url);
  holder.send();
  await waitFor(() => up.seen() === 1);
  clock.advance(60_000);
  up.release();
  expect((await holder.next()).status).toBe(200);
  holder.send();
  await waitFor(() => up.seen() === 2);
  return { up, gw, holder };
}

describe('gateway: refused connections are paced at the socket', () => {
  it('a client that re-sends at once after a refusal is not read until the pause has passed; other clients are served meanwhile', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { pauseRefused: '2s', pauseRefusedLoad: 0, keepAliveTimeout: '5s' },
        policies: { perKey: { tenant: { header: 'x-key' }, rateLimits: [{ rate: '1/min', burst: 1 }] } },
        routes: [{ path: '/', policy: 'perKey' }],
      }),
    );
    const storm = rawClient(gw.url);
    storm.send('/', { 'x-key': 'a' });
    expect((await storm.next()).status).toBe(200);
    storm.send('/', { 'x-key': 'a' });
    const refused = await storm.next();
    expect(refused.status).toBe(429);
    expect(Number(/retry-after: *(\d+)/i.exec(refused.head)?.[1])).toBeGreaterThan(2);
    const resentAt = performance.now();
    storm.send('/', { 'x-key': 'a' }); // at once, ignoring Retry-After
    expect(gw.status().paused.now).toBe(1);

    // The loop is not held by the paused client: another client is answered meanwhile.
    expect((await get(gw.url, { headers: { 'x-key': 'b' } })).status).toBe(200);

    const again = await storm.next();
    // Not read before the pause (2 s) passed; a lower bound holds on a busy machine too.
    expect(again.at - resentAt).toBeGreaterThanOrEqual(1000);
    expect(again.status).toBe(429);
    expect(again.head).toMatch(/retry-after: *\d+/i);
    expect(gw.status().counters.requests).toBe(4);
    storm.socket.destroy();
  });

  it('a rate refusal pauses its connection only while its bucket is not yet full again: a small bucket refilled sooner is not paused for, a slower one is', async () => {
    // The rate gates' clock stands still: each refusal's Retry-After and refill time are exact.
    // It carries the system clock's timer slack, which a refusal's retryAfterMs includes.
    class SlackClock extends VirtualClock {
      readonly timerSlackMs = 2;
    }
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { pauseRefused: '1s', pauseRefusedLoad: 0, keepAliveTimeout: '5s' },
        policies: {
          // Full again 1 ms after a grant: a pause of its Retry-After (1 ms + 2 ms slack) would sleep through 2 of every 3 ms of its rate.
          small: { rateLimits: [{ rate: '1000/s', burst: 1 }] },
          // 5 units refill in 500 ms; the next unit comes in 100 ms.
          large: { rateLimits: [{ rate: '10/s', burst: 5 }] },
        },
        routes: [
          { path: '/small', policy: 'small' },
          { path: '/', policy: 'large' },
        ],
      }),
      { clock: new SlackClock(1000) },
    );

    const small = rawClient(gw.url);
    small.send('/small');
    expect((await small.next()).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      small.send('/small'); // at once, as a closed-loop client does
      const r = await small.next();
      expect(r.status).toBe(429);
      expect(r.head).toMatch(/retry-after: *\d+/i);
    }
    expect(gw.status().paused).toMatchObject({ now: 0, total: 0 });
    small.socket.destroy();

    const large = rawClient(gw.url);
    for (let i = 0; i < 5; i++) {
      large.send('/');
      expect((await large.next()).status).toBe(200);
    }
    large.send('/');
    expect((await large.next()).status).toBe(429);
    expect(gw.status().paused.total).toBe(1);
    large.socket.destroy();
  });

  it('pauseRefused 0s turns it off; a trusted proxy\'s connection is never paused (it carries other clients)', async () => {
    const up = await holdingUpstream();
    for (const extra of [{ server: { pauseRefused: '0s', pauseRefusedLoad: 0 } }, { server: { pauseRefusedLoad: 0 }, trustProxy: ['loopback'] }] as const) {
      const gw = await startInProcess(withLimit1(up.url, extra.server, 'trustProxy' in extra ? { trustProxy: extra.trustProxy } : {}));
      const holder = rawClient(gw.url);
      holder.send();
      await waitFor(() => gw.status().counters.admitted === 1);
      const storm = rawClient(gw.url);
      for (let i = 0; i < 3; i++) {
        storm.send();
        const r = await storm.next();
        expect(r.status).toBe(503);
        expect(r.head).toMatch(/retry-after: *\d+/i);
      }
      expect(gw.status().paused).toMatchObject({ now: 0, total: 0 });
      up.release();
      await holder.next();
      holder.socket.destroy();
      storm.socket.destroy();
      await gw.close();
    }
  });

  it('with room on the event loop (below pauseRefusedLoad) a refused connection is not paused: its next request is read and answered', async () => {
    const up = await holdingUpstream();
    // 0.99: a loop that waits on sockets, as this test's does, never gets there; the default is 0.9.
    const gw = await startInProcess(withLimit1(up.url, { pauseRefused: '5s', pauseRefusedLoad: 0.99, keepAliveTimeout: '20s' }));
    await waitFor(() => !gw.status().paused.engaged); // past any start-up spike
    const holder = rawClient(gw.url);
    holder.send();
    await waitFor(() => up.seen() === 1);
    const client = rawClient(gw.url);
    for (let i = 0; i < 5; i++) {
      client.send();
      const r = await client.next();
      expect(r.status).toBe(503);
      expect(r.head).toMatch(/retry-after: *\d+/i);
    }
    expect(gw.status().paused).toEqual({ now: 0, total: 0, repaused: 0, woken: 0, ranOut: 0, unpaced: 5, engaged: false });
    expect(gw.status().counters.rejected).toBe(5);
    up.release();
    expect((await holder.next()).status).toBe(200);
    holder.socket.destroy();
    client.socket.destroy();
  });

  it('a capacity refusal\'s pause ends early when a slot frees: the longest-paused connection is read again, its request admitted; counted in /status', async () => {
    const up = await holdingUpstream();
    // A pause as long as the refusal's Retry-After (the cap is 20 s): `woken` tells an early end from its timer's.
    const server = { pauseRefused: '20s', pauseRefusedLoad: 0, keepAliveTimeout: '45s', headersTimeout: '45s' } as const;
    const gw = await startInProcess(withLimit1(up.url, server));
    const holder = rawClient(gw.url);
    holder.send();
    await waitFor(() => up.seen() === 1);
    const first = rawClient(gw.url);
    const second = rawClient(gw.url);
    first.send();
    expect((await first.next()).status).toBe(503);
    second.send();
    expect((await second.next()).status).toBe(503);
    // Both re-send at once, ignoring Retry-After: paused, their requests wait in TCP.
    first.send();
    second.send();
    await waitFor(() => gw.status().paused.now === 2);
    up.release();
    expect((await holder.next()).status).toBe(200);
    // The slot freed: the longest-paused connection (first) is read again and admitted.
    await waitFor(() => up.seen() === 2);
    expect(gw.status().paused).toMatchObject({ now: 1, woken: 1 });
    up.release();
    expect((await first.next()).status).toBe(200);
    // Its permit ended too: second is woken the same way.
    await waitFor(() => up.seen() === 3);
    up.release();
    expect((await second.next()).status).toBe(200);
    expect(gw.status().paused).toMatchObject({ now: 0, woken: 2 });
    expect(gw.status().counters).toMatchObject({ admitted: 3, rejected: 2 });
    for (const c of [holder, first, second]) c.socket.destroy();
  }, 15_000);

  it('a slot that frees with no permit ending (the woken connection had nothing to send) wakes the next paused one: the slot does not sit idle until a pause runs out', async () => {
    const { up, gw, holder } = await slotHeldLong();
    // An honest client, refused first, waits its Retry-After: its connection holds nothing.
    const honest = rawClient(gw.url);
    honest.send();
    const refused = await honest.next();
    expect(refused.status).toBe(503);
    expect(Number(/retry-after: *(\d+)/i.exec(refused.head)?.[1])).toBeGreaterThanOrEqual(20);
    const storm = rawClient(gw.url);
    storm.send();
    expect((await storm.next()).status).toBe(503);
    storm.send(); // at once, ignoring Retry-After
    await waitFor(() => gw.status().paused.now === 2);
    up.release();
    expect((await holder.next()).status).toBe(200);
    // The permit's end woke the longest-paused (honest: nothing to read); the free slot then wakes storm.
    await waitFor(() => up.seen() === 3);
    expect(gw.status().paused.now).toBe(0);
    up.release();
    expect((await storm.next()).status).toBe(200);
    expect(gw.status().counters).toMatchObject({ admitted: 3, rejected: 2 });
    for (const c of [holder, honest, storm]) c.socket.destroy();
  }, 15_000);

  it('a reload that raises the limit (a new gate in the old one\'s place) wakes the connections the old gate refused for the new slots', async () => {
    const { up, gw, holder } = await slotHeldLong();
    const storm = rawClient(gw.url);
    storm.send();
    expect((await storm.next()).status).toBe(503);
    storm.send(); // at once, ignoring Retry-After
    await waitFor(() => gw.status().paused.now === 1);
    // Limit 2: the policy is built anew, its gate takes the old one's place (and its request in flight).
    await gw.reload({ ...withLimit1(up.url, LONG_PAUSES), policies: { one: { concurrency: 2 } } });
    await waitFor(() => up.seen() === 3);
    expect(gw.status().paused.now).toBe(0);
    up.release();
    expect((await holder.next()).status).toBe(200);
    expect((await storm.next()).status).toBe(200);
    for (const c of [holder, storm]) c.socket.destroy();
  }, 15_000);

  it('drain: a request sent on a paused connection is read and answered (Connection: close), not dropped', async () => {
    const up = await holdingUpstream();
    const gw = await startInProcess(withLimit1(up.url, { pauseRefused: '2s', pauseRefusedLoad: 0, keepAliveTimeout: '5s' }));
    const holder = rawClient(gw.url);
    holder.send();
    await waitFor(() => up.seen() === 1);
    const storm = rawClient(gw.url);
    storm.send();
    expect((await storm.next()).status).toBe(503);
    storm.send();
    await waitFor(() => gw.status().paused.now === 1);
    const drained = gw.drain(5_000);
    const answer = await storm.next();
    expect(answer.status).toBe(503);
    expect(answer.head).toMatch(/connection: *close/i);
    expect(answer.head).toMatch(/retry-after: *\d+/i);
    await storm.closed;
    up.release();
    expect((await holder.next()).status).toBe(200);
    await drained;
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
