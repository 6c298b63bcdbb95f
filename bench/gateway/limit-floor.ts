/**
 * "node limit floor": the least a Node proxy with the gateway's admission does, so the
 * closed-loop table shows how much of sluice's CPU per request is Node's own (node:http in,
 * an undici Pool out, or another HTTP/1 client: floor-upstream.ts) and how much is
 * sluice's. A fixed number of slots handed out in arrival order; a request that waits longer than the queue timeout is answered 503 with
 * Retry-After; a slot goes back when the upstream's response is complete (as the gateway's
 * permit does), before the client's response is written. Nothing else: no routing, no
 * header checks, no pacing of refused connections, no backpressure from slow clients, no
 * metrics, no logs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { floorUpstream } from './floor-upstream.js';
import type { FloorUpstreamSettings } from './floor-upstream.js';

const REFUSAL_BODY = '{"status":503,"title":"Service Unavailable"}';
const REFUSAL_HEAD = ['Content-Type', 'application/problem+json', 'Retry-After', '1', 'Content-Length', String(REFUSAL_BODY.length)];

export interface LimitFloorSettings extends FloorUpstreamSettings {
  readonly concurrency: number;
  readonly queueTimeoutMs: number;
}

interface Waiter {
  readonly go: () => void;
  readonly timer: NodeJS.Timeout;
  gone: boolean;
}

/** `limit` slots; waiters in arrival order, each refused at its deadline. */
class FifoSlots {
  #free: number;
  readonly #queue: Waiter[] = [];
  #head = 0;

  constructor(limit: number, readonly timeoutMs: number) {
    this.#free = limit;
  }

  /** `go` runs when a slot is taken (at once, or later); `refuse` at the deadline. Returns a cancel for a client gone while it waits. */
  take(go: () => void, refuse: () => void): (() => void) | undefined {
    if (this.#free > 0) {
      this.#free--;
      go();
      return undefined;
    }
    const w: Waiter = {
      go,
      gone: false,
      timer: setTimeout(() => {
        w.gone = true;
        refuse();
      }, this.timeoutMs),
    };
    this.#queue.push(w);
    return () => {
      w.gone = true;
      clearTimeout(w.timer);
    };
  }

  /** Requests waiting for a slot now. */
  waiting(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.gone) n++;
    return n;
  }

  release(): void {
    while (this.#head < this.#queue.length) {
      const w = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Waiter;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (w.gone) continue;
      clearTimeout(w.timer);
      w.go();
      return;
    }
    this.#free++;
  }
}

export async function startLimitFloor(upstreamUrl: string, s: LimitFloorSettings): Promise<{ url: string; waiting: () => number; close: () => Promise<void> }> {
  const origin = new URL(upstreamUrl).origin;
  const upstream = floorUpstream(origin, s);
  const slots = new FifoSlots(s.concurrency, s.queueTimeoutMs);
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const cancel = slots.take(
      () => upstream.forward(req, res, () => slots.release()),
      () => {
        res.writeHead(503, REFUSAL_HEAD);
        res.end(REFUSAL_BODY);
      },
    );
    if (cancel !== undefined) res.once('close', cancel);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    waiting: () => slots.waiting(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await upstream.close();
    },
  };
}
