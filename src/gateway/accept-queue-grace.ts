/**
 * A draining listener stays open until its accept queue is empty, then closes: closing it
 * resets every connection still queued there, clients that connected (and sent a request)
 * just before the drain (hostile finding D1).
 *
 * Node (libuv >= 1.45) accepts one connection per loop turn per listening handle, so N queued
 * connections need N turns. After a grace the listener closes after a whole loop turn that
 * accepted nothing (its poll phase found the queue empty). Under a reconnect storm that turn
 * never came: every client answered (503 + Connection: close) connected again at once, the
 * kernel queued it, and at `maxMs` the close reset all the queue held then — 196 of 200
 * storming clients got ECONNRESET after sending their request (drain session, 2026-12-05).
 * So a connection accepted during the drain is not read (its handle's readStop, as the refusal
 * pacer pauses one) until the listener is closed: a client held does not come back, the storm
 * runs out of clients, a turn accepts nothing, the listener closes on an empty queue, and then
 * the held connections are read and answered (503 + Connection: close); a client that tries
 * again is refused (ECONNREFUSED: nothing sent). Corking their answers instead held nothing:
 * node:http ends a Connection: close response with end(), which uncorks. Cutting the backlog to
 * 0 (listen(2) again) made it worse: with SYN cookies on (Linux's default), the kernel answers
 * SYNs while the queue is momentarily empty and drops the ACKs that find it full — clients that
 * think they are connected, sent their request, and are reset at the close. Against clients without end (an
 * open-loop flood) the queue is never empty: at `maxMs` the listener closes right after its
 * next accept, in the same call, so the queue it resets holds only what came since that accept.
 *
 * With workers each process holds a copy of the listening socket, and the socket listens until
 * the last copy closes: a worker that closed its copy and answered what it held sent those
 * clients straight back to the copies still open — a storm of its own on the last worker, whose
 * close then reset what it queued (about 1 run in 10 of `--workers 2` under a reconnect storm,
 * drainrace session). So a worker holds what it accepted until its primary says every copy has
 * closed (`everywhere`, bounded by `maxMs`): the storm runs out of clients in every worker, and
 * the last copy closes on an empty queue.
 */
import type { Server, Socket } from 'node:net';
import { handleOf } from './refusal-pacer.js';

/** With workers: what says the listening socket has closed in every process (worker.ts), and how long to wait for it at most, ms. */
export interface ListenerCopies {
  /** Called once this process's copy is closed; resolves once every process's is. */
  closedHere(): Promise<void>;
  readonly maxWaitMs: number;
}

/**
 * Go on accepting what waits in `server`'s accept queue, at least `graceMs`, then until a loop
 * turn accepts nothing, and past `maxMs` until the next accept; then call `close` — in the same
 * call as that accept, before the kernel can queue another — and only then read the
 * connections accepted meanwhile (with `copies`, once every copy of the listener has closed, or
 * at its `maxWaitMs`). Resolves once `close` has run and a poll phase has read them.
 */
export function acceptWhatWaits(server: Server, graceMs: number, maxMs: number, close: () => void, copies?: ListenerCopies): Promise<void> {
  const held: Socket[] = [];
  return new Promise((resolve) => {
    let accepted = 0;
    let last = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      clearTimeout(cap);
      server.removeListener('connection', onConnection);
      close();
      const read = (): void => {
        for (const socket of held) if (!socket.destroyed) handleOf(socket)?.readStart();
        // Two check phases on: a poll phase has read what the held connections had sent (before the drain closes idle ones).
        setImmediate(() => setImmediate(resolve));
      };
      if (copies === undefined) return read();
      let wait: NodeJS.Timeout | undefined;
      void Promise.race([copies.closedHere(), new Promise<void>((r) => (wait = setTimeout(r, copies.maxWaitMs)))]).then(() => {
        clearTimeout(wait);
        read();
      });
    };
    // Appended: node:http's listener has taken the connection (and started reading it) when this runs.
    const onConnection = (socket: Socket): void => {
      accepted++;
      handleOf(socket)?.readStop();
      held.push(socket);
      if (last) finish();
    };
    server.on('connection', onConnection);
    const turn = (): void => {
      const before = accepted;
      // Between two check phases runs one poll phase, which accepts one queued connection if any.
      setImmediate(() => (accepted === before ? finish() : turn()));
    };
    const grace = setTimeout(turn, graceMs);
    const cap = setTimeout(() => (last = true), Math.max(graceMs, maxMs));
  });
}
