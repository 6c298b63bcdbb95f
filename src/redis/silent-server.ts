/**
 * A server that accepts the TCP connection and never answers: a proxy whose Redis is gone, a
 * host that vanished after the handshake (its packets now go nowhere), a frozen Redis, not
 * Redis at all. ioredis's `connectTimeout` ends at the TCP (or TLS) connect; its ready check
 * then waits on that connection until TCP gives up — minutes — and no reconnect comes, so the
 * store stayed in its failure mode long after a Redis answered at the same address.
 */
import type { Redis } from 'ioredis';

/** Why a connection the server accepted is not ready after `ms`. */
export function silentServer(ms: number): string {
  return `TCP connected, no reply within ${ms} ms (a frozen or overloaded Redis, a proxy whose Redis is gone, or not Redis: is the port in the store's URL Redis's?)`;
}

/**
 * Most bytes a connection may bring before it is ready (its ready check answered). A Redis
 * answers the check (INFO) in a few kilobytes, a LOADING one with a line; a server that sends
 * more and no reply that ends is no Redis (a stream served on that port, a greeting without
 * end), and ioredis would buffer the reply it never finishes for as long as the bytes came.
 */
export const MAX_UNREADY_BYTES = 1024 * 1024;

/** Why a connection that brought MAX_UNREADY_BYTES without being ready was dropped. */
export function floodingServer(bytes: number): string {
  return `TCP connected, ${bytes} bytes came and no reply a Redis gives to its ready check (not Redis: is the port in the store's URL Redis's?); connection dropped`;
}

/**
 * Drop a connection of `client` on which nothing came back `ms` after its connect (status
 * 'connect': the ready check unanswered), or that brought more than MAX_UNREADY_BYTES before
 * it was ready, and let the client reconnect on its retry strategy; `silent` is told
 * why first. A frozen Redis that thaws answers the next connection as it would have this one.
 */
export function dropSilentConnections(client: Redis, ms: number, silent: (why: string) => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const clear = (): void => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timer = undefined;
  };
  client.on('connect', () => {
    clear();
    // Any byte counts as an answer: a Redis LOADING its data answers the ready check and
    // stays in 'connect' until it is done (ioredis asks again); its connection is kept.
    let answered = false;
    const stream = (client as { stream?: NodeJS.EventEmitter }).stream;
    // Counted until the client is ready (or the connection goes): a flood is cut at the bound,
    // not buffered by ioredis without end (hostile2: 3.2 GB in 40 s behind --store).
    let bytes = 0;
    const count = (data: Buffer): void => {
      bytes += data.length;
      answered = true;
      if (client.status === 'ready' || client.status === 'end' || client.status === 'close') {
        stream?.off('data', count);
        return;
      }
      if (bytes <= MAX_UNREADY_BYTES) return;
      stream?.off('data', count);
      silent(floodingServer(bytes));
      client.disconnect(true);
    };
    stream?.on('data', count);
    timer = setTimeout(() => {
      timer = undefined;
      if (answered || client.status !== 'connect') return;
      silent(silentServer(ms));
      client.disconnect(true);
    }, ms);
    timer.unref();
  });
  client.on('ready', clear);
  client.on('close', clear);
}
