// Clients that read a large response slowly hold the upstream connection it comes on (hostile
// finding F27): its permit ended when the response outgrew its buffer, so it holds no slot, but
// one of the upstream's maxSockets it does. Enough of them took every socket, and every other
// request on that upstream waited for one — admitted requests holding their slots, so the route
// refused everyone else (150 trickle readers, maxSockets 80: a well-behaved client 198/s → 0/s).
// Now a response that waits for its client yields its connection to a request waiting for one.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { undici } from '../../src/gateway/peers.js';
import { writeBig } from './big-response.js';
import { cleanup, get, onCleanup, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
  return cleanup();
});

/** An upstream answering `/big` with 64 MB, written as fast as the gateway reads it, and anything else with 'small'. */
function bigUpstream(): ReturnType<typeof upstream> {
  return upstream((req, res) => (req.url !== '/big' ? res.end('small') : writeBig(res, 1024)));
}

describe('slow readers and the upstream pool', () => {
  it('a request waiting for an upstream connection gets one held by a client that is not reading', async () => {
    const up = await bigUpstream();
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { responseBuffer: '64kb' },
        upstreams: { app: { url: up.url, timeout: '10s', maxSockets: 2 } },
        routes: [{ path: '/', policy: { concurrency: 10 } }],
      }),
    );
    const u = new URL(gw.url);
    const readers: Socket[] = [];
    onCleanup(async () => readers.forEach((s) => s.destroy()));
    for (let i = 0; i < 2; i++) {
      const s = connect(Number(u.port), u.hostname);
      s.on('error', () => undefined);
      s.write('GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
      s.pause(); // never reads
      readers.push(s);
    }
    // Both of the upstream's connections are held by responses waiting for their clients.
    await new Promise<void>((resolve) => {
      const check = (): void => void (gw.status().counters.slowReadersHeld >= 2 ? resolve() : setTimeout(check, 20));
      check();
    });
    const small = await get(`${gw.url}/small`);
    expect(small.status).toBe(200);
    expect(small.body).toBe('small');
    expect(gw.status().counters.slowReadersYielded).toBeGreaterThanOrEqual(1);
  }, 60_000); // 20 s was too little beside 40 other processes on 2 cores (load average 40)

  it('a request that waits for a new connection to be opened (the pool not full) cuts no slow reader', async () => {
    // The flake of slow-clients.test.ts's non-reader (fresh-clone CI beside a CPU hog): undici counts a request
    // `pending` while its new connection is being opened, and a sweep that came then cut the slow reader
    // (slowReadersYielded, not writeTimeouts). Here the gateway's loop is held for 150 ms right after it hands the
    // request to undici, so the sweep (every 50 ms) comes before the connection is open, every time.
    const up = await bigUpstream();
    const gw = await startInProcess(
      oneRoute(up.url, '10s', { server: { responseBuffer: '64kb', writeTimeout: '1m' }, routes: [{ path: '/', policy: { concurrency: 10 } }] }),
    );
    const u = new URL(gw.url);
    const reader = connect(Number(u.port), u.hostname);
    onCleanup(async () => void reader.destroy());
    reader.on('error', () => undefined);
    let closed = false;
    reader.once('close', () => (closed = true));
    reader.write('GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
    reader.pause(); // never reads
    await new Promise<void>((resolve) => {
      const check = (): void => void (gw.status().counters.slowReadersHeld >= 1 ? resolve() : setTimeout(check, 20));
      check();
    });
    const Pool = undici().Pool;
    const dispatch = Pool.prototype.dispatch;
    vi.spyOn(Pool.prototype, 'dispatch').mockImplementation(function (this: InstanceType<typeof Pool>, ...args: Parameters<typeof dispatch>) {
      const sent = dispatch.apply(this, args);
      const until = Date.now() + 150;
      while (Date.now() < until); // the loop held: the new connection's connect is seen after the next sweep
      return sent;
    });
    const small = await get(`${gw.url}/small`);
    expect(small.status).toBe(200);
    expect(gw.status().counters.slowReadersYielded).toBe(0);
    expect(closed).toBe(false);
  }, 60_000); // 20 s was too little beside 40 other processes on 2 cores (load average 40)
});
