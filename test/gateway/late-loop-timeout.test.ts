// A request whose head came whole at once is not answered 408 because the gateway's own event loop
// was late to read it. node:http checks headersTimeout in its timers phase, which comes before the
// poll phase that reads what arrived: a loop turn longer than headersTimeout (a busy host, or a
// long synchronous piece of work, such as dropping thousands of pipelined requests of a closed
// connection) timed out a connection accepted just before it, its request waiting in the kernel.
// Seen as 408 to a fresh client's fetch in pipeline-memory.test.ts beside a CPU hog, and to the
// honest client of the hostile probe '20 × 100 pipelined /big, never read' (session 25).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, sleep, startInProcess, upstream, within } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

/** Holds this process's event loop (the in-process gateway's too) for `ms`. */
function holdLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('a head that waits in the kernel while the loop is held', () => {
  it('is read and served once the loop comes back, not answered 408', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { headersTimeout: '300ms' } }));
    const c = rawSocket(gw.url);
    await new Promise<void>((resolve) => c.socket.once('connect', () => resolve()));
    // Accepted by the gateway (its headers timer runs from here), and nothing sent yet.
    await sleep(50);
    c.socket.write('GET /x HTTP/1.1\r\nHost: gw\r\n\r\n');
    holdLoop(1_000); // past headersTimeout, and past node's next check of it
    expect(await within(10_000, () => /^HTTP\/1\.1 \d{3} /.test(c.text()), 10)).toBe(true);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.text()).toMatch(/\r\n\r\nok$/);
  });

  it('a connection that sent nothing is still closed at headersTimeout with its 408', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { headersTimeout: '300ms' } }));
    const c = rawSocket(gw.url);
    await new Promise<void>((resolve) => c.socket.once('connect', () => resolve()));
    holdLoop(1_000);
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(gw.status().counters.idleConnectionsClosed).toBe(1);
  });
});
