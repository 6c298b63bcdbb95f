/**
 * The primary's own copy of the proxy listener (hostile finding D1, with workers).
 *
 * With node:cluster's default scheduling here (SCHED_NONE: the workers accept for themselves),
 * the primary binds the listening socket and sends it to each worker, and keeps a copy of its
 * own until every worker has said it closed theirs. A drain had every worker close its copy
 * first: the socket then went on listening through the primary's copy alone — the kernel
 * completed handshakes and queued connections that no process would accept — until the
 * primary had read every worker's 'close' (an IPC round trip each, hundreds of ms on a busy
 * host), and reset them all when it closed. Closing the primary's copy when the drain begins
 * leaves the socket to the workers: it stops listening with the last worker's close, and a
 * later client is refused (ECONNREFUSED, nothing sent) instead of reset after sending.
 *
 * The copy is the handle node:cluster sends with its answer to a worker's listen request
 * (internal/cluster/primary.js, Node 20-24: `{ cmd: 'NODE_CLUSTER', ack: seq, ... }` with the
 * SharedHandle's handle); node:cluster closes it again later, which is a no-op on a closed
 * handle. With round-robin scheduling (NODE_CLUSTER_SCHED_POLICY=rr) the answer carries no
 * handle and this does nothing; a Node that changes the message shape makes it a no-op too.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Closable {
  close(): void;
}

interface ClusterReply {
  readonly cmd?: unknown;
  readonly ack?: unknown;
}

export class SharedListener {
  readonly #handles = new Set<Closable>();
  #closed = false;

  /** Note the listening handles node:cluster sends `worker` from now on. */
  watch(worker: Worker): void {
    const proc = worker.process;
    const send = proc.send.bind(proc) as (...args: unknown[]) => boolean;
    proc.send = ((message: unknown, handle?: unknown, ...rest: unknown[]): boolean => {
      const m = message as ClusterReply | null;
      if (!this.#closed && m !== null && typeof m === 'object' && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number' && typeof (handle as Partial<Closable> | null | undefined)?.close === 'function') {
        this.#handles.add(handle as Closable);
      }
      return send(message, handle, ...rest);
    }) as typeof proc.send;
  }

  /** Close the primary's copies (the workers' stay open until each closes its own); how many. */
  close(): number {
    this.#closed = true;
    const n = this.#handles.size;
    for (const h of this.#handles) {
      try {
        h.close();
      } catch {
        // closed already
      }
    }
    this.#handles.clear();
    return n;
  }
}

/**
 * Which workers' drains closed their copy of the listener, and the word to each that what it
 * holds may be answered (accept-queue-grace.ts): outside a drain of the whole gateway at once
 * (the others go on listening: a worker replaced by a reload), during one once every worker
 * still running has closed its copy — the socket stops listening with the last — or exited. A
 * worker forked during the drain counts too: it listens, is drained at once, and closes its copy.
 */
export class ClosedCopies {
  readonly #closed = new Set<Worker>();
  readonly #onAll: () => void;
  #draining = false;

  /** `onAll`: every copy is closed (once per drain). */
  constructor(onAll: () => void) {
    this.#onAll = onAll;
  }

  /** `worker` closed its copy. */
  closed(worker: Worker): void {
    this.#closed.add(worker);
    this.check();
  }

  /** The whole gateway drains: the workers are told once every copy is closed. */
  drain(): void {
    this.#draining = true;
    this.check();
  }

  /** Call when a worker exits (its copy closed with it). */
  check(): void {
    if (this.#closed.size === 0) return;
    const running = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    if (this.#draining && !running.every((w) => this.#closed.has(w))) return;
    for (const w of this.#closed) if (w.isConnected()) w.send({ t: 'listeners-closed' });
    this.#closed.clear();
    if (this.#draining) this.#onAll();
  }
}

/**
 * A port free on `host` now, for `listen.port: 0` with workers (restart-settings.ts's
 * withPinnedPort): node:cluster closes the listening socket when its last worker exits, and the
 * next worker's listen(0) bound a new port. Chosen here and given to every worker, the port stays
 * the user's: a worker forked after all died binds it again (refused meanwhile: nothing listens).
 * undefined when `host` cannot be bound: the workers then fail to start with their own error.
 */
export function choosePort(host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen({ host, port: 0 }, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
