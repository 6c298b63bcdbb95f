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
 * Drop a connection of `client` on which nothing came back `ms` after its connect (status
 * 'connect': the ready check unanswered) and let the client reconnect on its retry strategy; `silent` is told
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
    (client as { stream?: NodeJS.EventEmitter }).stream?.once('data', () => void (answered = true));
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
