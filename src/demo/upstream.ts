/**
 * The demo upstream: a node:http service with a fixed capacity — `concurrency` requests in
 * service at once, each taking `serviceMs` — so it completes at most
 * `concurrency × 1000 / serviceMs` requests per second. Beyond that, requests wait in an
 * unbounded FIFO inside the service, as in a real overloaded server (a thread pool behind
 * an accept queue): latency grows with the backlog, and a request whose client already gave
 * up is still served when its turn comes — work wasted, which is how overload turns into
 * collapse when nothing in front of the service says no.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoUpstreamOptions {
  /** Requests in service at once. Integer >= 1. */
  readonly concurrency: number;
  /** Time each request takes once in service, ms. >= 0. */
  readonly serviceMs: number;
}

/** What the upstream saw since the last {@link DemoUpstream.resetWindow}. */
export interface UpstreamWindow {
  /** Largest number of requests waiting for a service slot (not counting those in service). */
  readonly peakQueue: number;
  /** Most requests in service or waiting at once. */
  readonly peakInFlight: number;
  /** Requests answered. */
  readonly served: number;
  /** Of those, requests whose client had already left: wasted work. */
  readonly servedToGone: number;
}

export interface DemoUpstream {
  readonly server: Server;
  readonly url: string;
  /** Requests waiting for a service slot right now. */
  queued(): number;
  /** Requests in service right now. */
  inService(): number;
  window(): UpstreamWindow;
  resetWindow(): void;
  close(): Promise<void>;
}

const BODY = Buffer.from('{"ok":true}\n');

export async function startDemoUpstream(options: DemoUpstreamOptions, port = 0): Promise<DemoUpstream> {
  const { concurrency, serviceMs } = options;
  // A FIFO of waiting requests as an array with a moving head: O(1) push and shift at any depth.
  let waiting: ([IncomingMessage, ServerResponse] | undefined)[] = [];
  let head = 0;
  let busy = 0;
  let peakQueue = 0;
  let peakInFlight = 0;
  let served = 0;
  let servedToGone = 0;

  const finish = (req: IncomingMessage, res: ServerResponse): void => {
    served++;
    if (res.destroyed || req.socket.destroyed) servedToGone++;
    else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY);
    }
    const next = waiting[head];
    if (next === undefined) {
      busy--;
      return;
    }
    waiting[head++] = undefined;
    if (head > 1024 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
    setTimeout(finish, serviceMs, next[0], next[1]);
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    // Drain the (empty) request body so the connection can be reused.
    req.resume();
    if (busy < concurrency) {
      busy++;
      peakInFlight = Math.max(peakInFlight, busy);
      setTimeout(finish, serviceMs, req, res);
      return;
    }
    waiting.push([req, res]);
    const depth = waiting.length - head;
    if (depth > peakQueue) peakQueue = depth;
    peakInFlight = Math.max(peakInFlight, busy + depth);
  });
  server.maxConnections = Infinity;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${address.port}`,
    queued: () => waiting.length - head,
    inService: () => busy,
    window: () => ({ peakQueue, peakInFlight, served, servedToGone }),
    resetWindow: () => {
      peakQueue = waiting.length - head;
      peakInFlight = busy + peakQueue;
      served = 0;
      servedToGone = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
