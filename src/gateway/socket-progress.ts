/**
 * What a client has taken of what the gateway wrote to its socket: the signal the write
 * timeout judges (read-rate.ts). Node tells only of whole writes done, and a write is done
 * when the kernel has taken all of it — which, for a socket whose send buffer is full, is when
 * a third of that buffer (up to 4 MB on Linux) has drained: measured on loopback, a client
 * reading a steady 20 KB/s showed progress in steps of 1.5 MB every 55–70 s, as a non-reader
 * shows none. So, on Linux, the count is the bytes the client's TCP stack has acknowledged:
 *
 *   acked = dispatched − (libuv's write queue) − (the kernel's tx_queue)
 *
 * `dispatched` being what Node handed libuv, libuv's queue what it has not yet got into the
 * kernel, and tx_queue (/proc/self/net/tcp{,6}, found by the socket's inode) what the kernel
 * holds unacknowledged. The peer acknowledges as its reads open its receive window, in steps
 * of a segment or so (64 KB on loopback, a few KB on a network) — fine enough for a rate over
 * a window. A reader that takes a byte now and then opens no window and shows nothing.
 *
 * A table is read at most once per sweep (that of the socket's family: tcp or tcp6), and
 * only in a sweep where some window starts or ends. Reading one costs about 5 ms of kernel
 * time (measured: it walks the whole established-connection hash, 262,144 buckets here,
 * whatever the number of sockets), so at most ~0.5% of a core per worker. Elsewhere (no /proc, or Node's internals not as expected), the count is what the kernel has
 * accepted, which moves in the coarse steps above.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Where read-watch.ts gets its counts: `refresh` once per sweep, then `taken` per client. */
export interface ProgressProbe<K> {
  /** A sweep begins: counts read from here on are as of now. */
  refresh(): void;
  /** A monotonic count of the bytes `key`'s client has taken; undefined when not known now. */
  taken(key: K): number | undefined;
}

/** The parts of node:net's socket internals read here (checked before use). */
interface SocketInternals {
  readonly _bytesDispatched?: unknown;
  readonly _handle?: { readonly writeQueueSize?: unknown; readonly fd?: unknown } | null;
}


/** The real probe, per response (by its socket): acknowledged bytes on Linux, accepted bytes elsewhere. */
export class KernelProgress implements ProgressProbe<{ readonly socket: Socket | null }> {
  /** Each socket's inode (undefined: none found; it is then counted the coarse way). */
  readonly #inodes = new WeakMap<Socket, string | undefined>();
  /** tx_queue by inode as of this sweep, per table (tcp, tcp6), each read when first asked for. */
  readonly #txq = new Map<string, Map<string, number>>();
  #linux: boolean;

  constructor(linux = process.platform === 'linux') {
    this.#linux = linux;
  }

  refresh(): void {
    this.#txq.clear();
  }

  taken(res: { readonly socket: Socket | null }): number | undefined {
    const socket = res.socket;
    if (socket === null) return undefined;
    const s = socket as unknown as SocketInternals;
    const dispatched = s._bytesDispatched;
    const queued = s._handle?.writeQueueSize;
    // Node's internals not as expected: whole writes done, the public figure.
    if (typeof dispatched !== 'number' || typeof queued !== 'number') return socket.bytesWritten - socket.writableLength;
    const accepted = dispatched - queued;
    const inode = this.#linux ? this.#inodeOf(socket, s) : undefined;
    if (inode === undefined) return accepted;
    // A dual-stack listener's IPv4 clients are IPv6 sockets (::ffff:a.b.c.d): in tcp6, as Node says.
    const unacked = this.#table(socket.remoteFamily === 'IPv6' ? '/proc/self/net/tcp6' : '/proc/self/net/tcp')?.get(inode);
    return unacked === undefined ? undefined : accepted - unacked;
  }

  #inodeOf(socket: Socket, s: SocketInternals): string | undefined {
    if (this.#inodes.has(socket)) return this.#inodes.get(socket);
    let inode: string | undefined;
    const fd = s._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) {
      try {
        inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      } catch {
        inode = undefined;
      }
    }
    this.#inodes.set(socket, inode);
    return inode;
  }

  #table(file: string): Map<string, number> | undefined {
    let txq = this.#txq.get(file);
    if (txq !== undefined) return txq;
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      // No table (a /proc not mounted): count the coarse way from now on.
      this.#linux = false;
      return undefined;
    }
    parseTable(text, (txq = new Map<string, number>()));
    this.#txq.set(file, txq);
    return txq;
  }
}

/**
 * Fill `into` with tx_queue by inode from a /proc/net/tcp table: after the header line, each
 * line is `sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...`, the
 * queues in hex.
 */
export function parseTable(text: string, into: Map<string, number>): void {
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const fields = text.slice(start, end).trim().split(/\s+/);
    start = end + 1;
    if (fields.length < 10) continue;
    const queues = fields[4]!;
    const colon = queues.indexOf(':');
    const tx = Number.parseInt(colon < 0 ? queues : queues.slice(0, colon), 16);
    if (Number.isFinite(tx)) into.set(fields[9]!, tx);
  }
}
