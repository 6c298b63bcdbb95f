// Clients that read a large response slowly hold the upstream connection it comes on (hostile
// finding F27): its permit ended when the response outgrew its buffer, so it holds no slot, but
// one of the upstream's maxSockets it does. Enough of them took every socket, and every other
// request on that upstream waited for one — admitted requests holding their slots, so the route
// refused everyone else (150 trickle readers, maxSockets 80: a well-behaved client 198/s → 0/s).
// Now a response that waits for its client yields its connection to a request waiting for one.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, onCleanup, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

const CHUNK = Buffer.alloc(64 * 1024, 97);

describe('slow readers and the upstream pool', () => {
  it('a request waiting for an upstream connection gets one held by a client that is not reading', async () => {
    const up = await upstream((req, res) => {
      if (req.url !== '/big') return res.end('small');
      // 64 MB, written as fast as the gateway reads it.
      let left = 1024;
      res.writeHead(200, { 'content-length': String(left * CHUNK.length) });
      const write = (): void => {
        while (left > 0) {
          left--;
          if (!res.write(CHUNK)) return void res.once('drain', write);
        }
        res.end();
      };
      write();
    });
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
      const check = (): void => void (gw.status().counters.slowReadersReleased >= 2 ? resolve() : setTimeout(check, 20));
      check();
    });
    const small = await get(`${gw.url}/small`);
    expect(small.status).toBe(200);
    expect(small.body).toBe('small');
    expect(gw.status().counters.slowReadersYielded).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
