/**
 * A draining listener stays open until its accept queue is empty, then closes: closing it
 * resets every connection still queued there, clients that connected (and sent a request)
 * just before the drain (hostile finding D1).
 *
 * A fixed grace was not enough: libuv (>= 1.45) accepts one connection per loop turn per
 * listening handle, so eight queued connections need eight turns, and on a busy machine the
 * process may get fewer turns than that in the grace — drain-accept.test.ts saw ECONNRESET
 * for some of eight connections in about half of its runs on a loaded host. So after the
 * grace the listener closes only after a whole loop turn that accepted nothing (its poll
 * phase found the queue empty), or at `maxMs`: a flood of new connections cannot hold a
 * drain open.
 */
import type { Server } from 'node:net';

export async function acceptWhatWaits(server: Server, graceMs: number, maxMs: number): Promise<void> {
  let accepted = 0;
  const count = (): void => void accepted++;
  server.prependListener('connection', count);
  try {
    const until = performance.now() + Math.max(graceMs, maxMs);
    await new Promise((resolve) => setTimeout(resolve, graceMs));
    for (;;) {
      const before = accepted;
      // Between two check phases runs one poll phase, which accepts one queued connection if any.
      await new Promise((resolve) => setImmediate(resolve));
      if (accepted === before || performance.now() >= until) return;
    }
  } finally {
    server.removeListener('connection', count);
  }
}
