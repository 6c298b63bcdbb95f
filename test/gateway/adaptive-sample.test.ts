// What an adaptive limit behind the gateway samples: the upstream's time, not the gateway's own
// turnaround. Found in the open loop at 8x (bench/gateway/README.md): with the gateway's loop
// saturated by refusals, gradient2 took each long loop turn for upstream latency and held 22
// permits (17 busy at the upstream) where the fixed limit held 50. Here the loop is stalled for
// real while the upstream's answers wait unread in their sockets: the upstream runs in a worker
// thread (its own loop), and the test's thread blocks until it has answered every request, then
// runs on for STALL_MS. The upstream's own latency never rises, so the limit must not fall; and
// when the upstream does get slower (no stall), it must.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.js';
import { cleanup, get, onCleanup, oneRoute, startInProcess } from './helpers.js';

afterEach(cleanup);

const ROUND = 16; // requests at once: over half the limit, so no sample is app-limited
const LIMIT = 20;
const SERVICE_MS = 40;
const STALL_MS = 300;
// counts[0]: requests received; counts[1]: answers written (their bytes in the socket); counts[2]: the upstream's delay, ms.
const RECEIVED = 0;
const ANSWERED = 1;
const DELAY = 2;

const UPSTREAM = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const counts = new Int32Array(workerData);
const server = http.createServer((req, res) => {
  req.resume();
  Atomics.add(counts, ${RECEIVED}, 1);
  setTimeout(() => res.end('ok', () => { Atomics.add(counts, ${ANSWERED}, 1); Atomics.notify(counts, ${ANSWERED}); }), Atomics.load(counts, ${DELAY}));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => { server.closeAllConnections(); server.close(() => parentPort.close()); });
`;

async function threadUpstream(counts: Int32Array): Promise<string> {
  const worker = new Worker(UPSTREAM, { eval: true, workerData: counts.buffer });
  onCleanup(() => worker.terminate().then(() => undefined));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return `http://127.0.0.1:${port}`;
}

/** The thread blocks (the gateway's loop with it) until the upstream answered `n` in all, then runs on `ms` more. */
function stallAfterAnswers(counts: Int32Array, n: number, ms: number): void {
  for (let a = Atomics.load(counts, ANSWERED); a < n; a = Atomics.load(counts, ANSWERED)) Atomics.wait(counts, ANSWERED, a, 5_000);
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a long loop turn: the answers wait unread in their sockets
  }
}

/** ROUND requests at once; with `stallMs`, the loop stalls once the upstream has them all and has answered them all. */
async function round(gw: Gateway, counts: Int32Array, stallMs: number): Promise<void> {
  const received = Atomics.load(counts, RECEIVED) + ROUND;
  const answered = Atomics.load(counts, ANSWERED) + ROUND;
  const replies = Promise.all(Array.from({ length: ROUND }, () => get(`${gw.url}/`)));
  if (stallMs > 0) {
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (Atomics.load(counts, RECEIVED) < received) return void setTimeout(poll, 1);
        stallAfterAnswers(counts, answered, stallMs);
        resolve();
      };
      poll();
    });
  }
  for (const r of await replies) expect(r.status).toBe(200);
}

function limitOf(gw: Gateway): number {
  return gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!.limit;
}

describe('the adaptive limit samples the upstream, not the gateway', () => {
  it("a stalled gateway loop does not cut the limit; a slower upstream does", async () => {
    const counts = new Int32Array(new SharedArrayBuffer(12));
    Atomics.store(counts, DELAY, SERVICE_MS);
    const up = await threadUpstream(counts);
    const gw = await startInProcess(oneRoute(up, '10s', { routes: [{ path: '/', policy: { concurrency: { limit: 'adaptive', initialLimit: LIMIT, maxLimit: LIMIT, queue: 100, queueTimeout: '10s' } } }] }));
    for (let i = 0; i < 3; i++) await round(gw, counts, 0);
    const calm = limitOf(gw); // LIMIT, or a little under it on a busy host's jitter
    // Each answer now reaches the gateway's client STALL_MS late, for the gateway's own sake.
    for (let i = 0; i < 4; i++) await round(gw, counts, STALL_MS);
    const stalled = limitOf(gw);
    expect(stalled).toBeGreaterThanOrEqual(calm);
    // The upstream itself 5x slower: its latency rose, and the limit falls.
    Atomics.store(counts, DELAY, 5 * SERVICE_MS);
    for (let i = 0; i < 4; i++) await round(gw, counts, 0);
    expect(limitOf(gw)).toBeLessThan(stalled);
  });
});
