/**
 * Connections the primary was handing to a worker that died (hostile finding F10).
 *
 * With node:cluster's round-robin scheduling (the gateway's primary uses it only when
 * NODE_CLUSTER_SCHED_POLICY=rr; by default the workers accept for themselves) the primary
 * accepts every connection and sends it to a worker (an IPC message `newconn` carrying the
 * socket), and closes its own copy only when the worker answers that it took it. A worker
 * that dies before answering (SIGKILL, the OOM killer) never does, and Node keeps that copy
 * open for ever: the client hangs, one per kill. The primary watches each worker's hand-offs
 * (its `send`, and the answers among its internal messages) and, once the worker has exited,
 * closes what it never answered for: those clients see the connection close, as the dead
 * worker's own clients do.
 *
 * The message shapes are node:cluster's (internal/cluster/round_robin_handle.js and
 * child.js, Node 20-24: `{ cmd: 'NODE_CLUSTER', act: 'newconn', seq }`, answered by
 * `{ cmd: 'NODE_CLUSTER', ack: seq, accepted }`); anything else passes untouched, so a Node
 * that changes them only makes this a no-op.
 */
import type { Worker } from 'node:cluster';

interface ClusterMessage {
  readonly cmd?: unknown;
  readonly act?: unknown;
  readonly seq?: unknown;
  readonly ack?: unknown;
}

interface Closable {
  close(): void;
}

const isCluster = (m: unknown): m is ClusterMessage => typeof m === 'object' && m !== null && (m as ClusterMessage).cmd === 'NODE_CLUSTER';

/**
 * Watch `worker`'s hand-offs from now on; the function returned (call it once the worker has
 * exited) closes the connections it never answered for and says how many there were.
 */
export function watchHandoffs(worker: Worker): () => number {
  const proc = worker.process;
  const inTransit = new Map<number, Closable>();
  const send = proc.send.bind(proc) as (...args: unknown[]) => boolean;
  proc.send = ((message: unknown, handle?: unknown, ...rest: unknown[]): boolean => {
    if (isCluster(message) && message.act === 'newconn' && typeof message.seq === 'number' && typeof (handle as Partial<Closable> | undefined)?.close === 'function') {
      inTransit.set(message.seq, handle as Closable);
    }
    return send(message, handle, ...rest);
  }) as typeof proc.send;
  proc.on('internalMessage', (m: unknown) => {
    if (isCluster(m) && typeof m.ack === 'number') inTransit.delete(m.ack);
  });
  return () => {
    const n = inTransit.size;
    for (const h of inTransit.values()) {
      try {
        h.close();
      } catch {
        // already closed
      }
    }
    inTransit.clear();
    return n;
  };
}
