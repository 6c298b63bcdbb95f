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
  /**
   * Record when each request arrives and is answered (the monotonic clock, ms: the same
   * CLOCK_MONOTONIC a load generator in another process can read), returned by
   * {@link DemoUpstream.window}: the bench's rate rows count admitted requests over the
   * span of their arrivals. @default false
   */
  readonly recordArrivals?: boolean;
}

/** What the upstream saw since the last {@link DemoUpstream.resetWindow}. */
export interface UpstreamWindow {
  /** Largest number of requests waiting for a service slot (not counting those in service). */
  readonly peakQueue: number;
  /** Most requests in service or waiting at once. */
  readonly peakInFlight: number;
  /** Requests answered. */
  readonly served: number;
  /**
   * Mean number of requests in service over the window (time-weighted): against the
   * concurrency, how well a proxy in front keeps the service slots busy — a slot left idle
   * between one answer and the proxy's next request is capacity lost.
   */
  readonly meanInService: number;
  /** Of those, requests whose client had already left: wasted work. */
  readonly servedToGone: number;
  /** With `recordArrivals`: when each request of the window arrived, ms (CLOCK_MONOTONIC, `process.hrtime`), in order. */
  readonly arrivals?: readonly number[];
  /** With `recordArrivals`: when each request of the window was answered (or found its client gone), ms, in order. */
  readonly departures?: readonly number[];
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

/** CLOCK_MONOTONIC in ms: comparable across processes of one host (wrk's Lua reads the same clock). */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

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
  // Time-weighted in-service count: busy × ms, summed at each change of busy.
  let windowStart = performance.now();
  let busySince = windowStart;
  let busyArea = 0;
  const setBusy = (n: number): void => {
    const now = performance.now();
    busyArea += busy * (now - busySince);
    busySince = now;
    busy = n;
  };
  let arrivals: number[] | undefined = options.recordArrivals === true ? [] : undefined;
  let departures: number[] | undefined = options.recordArrivals === true ? [] : undefined;

  const finish = (req: IncomingMessage, res: ServerResponse): void => {
    served++;
    departures?.push(monotonicMs());
    if (res.destroyed || req.socket.destroyed) servedToGone++;
    else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY);
    }
    const next = waiting[head];
    if (next === undefined) {
      setBusy(busy - 1);
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
    arrivals?.push(monotonicMs());
    // Drain the (empty) request body so the connection can be reused.
    req.resume();
    if (busy < concurrency) {
      setBusy(busy + 1);
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
    window: () => {
      setBusy(busy);
      const ms = busySince - windowStart;
      return { peakQueue, peakInFlight, served, servedToGone, meanInService: ms > 0 ? busyArea / ms : busy, ...(arrivals === undefined ? {} : { arrivals: [...arrivals], departures: [...(departures ?? [])] }) };
    },
    resetWindow: () => {
      if (arrivals !== undefined) {
        arrivals = [];
        departures = [];
      }
      peakQueue = waiting.length - head;
      peakInFlight = busy + peakQueue;
      served = 0;
      servedToGone = 0;
      windowStart = busySince = performance.now();
      busyArea = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
