// The upstream timeout across a stall of the gateway's event loop (defects 2026-12-04, item 6):
// a stall is the process's own lateness, not the upstream's. The timeout is undici's
// headersTimeout, a "fast timer" that advances one tick (499 ms) per turn of the loop whatever
// the time that passed, so a stall longer than the timeout does not expire it, and the answer
// that came during the stall is relayed. A guard: if an undici upgrade made it a plain timer, it
// would fire in the timers phase right after the stall, before the answer is read (504).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, startInProcess, upstream } from './helpers.js';
import { stall } from '../stall.js';

afterEach(cleanup);

/** A gateway in this process before `handle`'s upstream, with a 1 s upstream timeout: the status and body of GET /a. */
async function through(handle: Parameters<typeof upstream>[0]): Promise<{ status: number; body: string }> {
  const up = await upstream(handle);
  const gw = await startInProcess({ listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, upstreams: { app: { url: up.url, timeout: '1s' } }, routes: [{ path: '/' }] });
  return get(`${gw.url}/a`);
}

describe('upstream timeout across a stall of the loop', () => {
  it('an answer written during a stall longer than the timeout is relayed, not 504', async () => {
    // The upstream runs in this process: its handler stalls the loop 1.5 s, past the 1 s timeout, then answers.
    const r = await through((_req, res) => {
      stall(1_500);
      res.end('ok');
    });
    expect([r.status, r.body]).toEqual([200, 'ok']);
  });

  it('a 103 then the answer, both read after a stall longer than the timeout: relayed, not 504', async () => {
    // Before, the gateway judged the 103 by performance.now() when it read it (1.5 s after the
    // request: past the 1 s timeout) and answered 504, the 200 right behind it in the socket.
    const r = await through((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      stall(1_500);
      res.end('ok');
    });
    expect([r.status, r.body]).toEqual([200, 'ok']);
  });

  it('an upstream that sends only 103s past the timeout is still 504', async () => {
    const r = await through((_req, res) => {
      const t = setInterval(() => res.writeEarlyHints({ link: '</a.js>; rel=preload' }), 300);
      res.on('close', () => clearInterval(t));
    });
    expect(r.status).toBe(504);
  });

  it('an upstream that does not answer within the timeout is still 504', async () => {
    expect((await through(() => undefined)).status).toBe(504);
  });
});
