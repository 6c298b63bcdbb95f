/** The open-loop generator's warm-up: arrivals before the measured window are sent, answered and not counted. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionPool } from '../../src/demo/connection-pool.js';
import { runOpenLoop } from '../../src/demo/open-loop.js';

let received = 0;
const server = createServer((req, res) => {
  received++;
  if (req.url === '/refuse') res.writeHead(503, { 'Retry-After': '1', 'Content-Length': '2' }).end('no');
  else res.writeHead(200, { 'Content-Length': '2' }).end('ok');
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('runOpenLoop warm-up', () => {
  it('sends the warm-up at the same rate but counts only the window: sent = rate x duration, onWindowStart once', async () => {
    received = 0;
    const pool = new ConnectionPool(`${base}/`, 64);
    let windowStarts = 0;
    let receivedAtWindowStart = -1;
    try {
      const r = await runOpenLoop({
        pool,
        rate: 200,
        durationMs: 300,
        warmupMs: 200,
        timeoutMs: 2000,
        onWindowStart: () => {
          windowStarts++;
          receivedAtWindowStart = received;
        },
      });
      expect(windowStarts).toBe(1);
      // Called before the first counted request went out: at most the 40 warm-up requests had arrived.
      expect(receivedAtWindowStart).toBeGreaterThanOrEqual(0);
      expect(receivedAtWindowStart).toBeLessThanOrEqual(40);
      expect(r.sent).toBe(60); // 200/s x 300 ms
      expect(r.ok).toBe(60);
      expect(r.okLatency.count).toBe(60);
      expect(r.timeouts + r.errors).toBe(0);
      expect(received).toBe(100); // warm-up and window both reached the server
    } finally {
      pool.destroy();
    }
  });

  it('warm-up refusals are not counted either', async () => {
    received = 0;
    const pool = new ConnectionPool(`${base}/refuse`, 64);
    try {
      const r = await runOpenLoop({ pool, rate: 200, durationMs: 100, warmupMs: 100, timeoutMs: 2000 });
      expect(r.sent).toBe(20);
      expect(r.rejected).toEqual({ 503: 20 });
      expect(r.rejectedWithRetryAfter).toBe(20);
      expect(r.rejectedLatency.count).toBe(20);
      expect(received).toBe(40);
    } finally {
      pool.destroy();
    }
  });

  it('without a warm-up every request counts and onWindowStart is called at the start', async () => {
    received = 0;
    const pool = new ConnectionPool(`${base}/`, 64);
    let windowStarts = 0;
    try {
      const r = await runOpenLoop({ pool, rate: 200, durationMs: 100, timeoutMs: 2000, onWindowStart: () => windowStarts++ });
      expect(windowStarts).toBe(1);
      expect(r.sent).toBe(20);
      expect(r.ok).toBe(20);
      expect(received).toBe(20);
    } finally {
      pool.destroy();
    }
  });
});
