/**
 * A client's close, bounded: its graceful close (quit, drain, channel cancel, connection close)
 * waits for the broker's answers, and a broker that took the connection and answers nothing (a
 * proxy whose backend hangs, a host gone after the handshake) would hold it for ever. So it is
 * given `ms`, then the connection is ended at once (`destroy`), which fails what still waited.
 */

/** How long a source's or producer's close() waits for the client's graceful close before it ends the connection. */
export const CLOSE_GRACE_MS = 2000;

/** Runs `graceful` (its rejection ignored: a connection already gone); past `ms`, `destroy()`. Never rejects. */
export async function closeWithin(graceful: () => Promise<unknown>, destroy: () => void, ms = CLOSE_GRACE_MS): Promise<void> {
  let bound: NodeJS.Timeout | undefined;
  let ended: boolean;
  try {
    ended = await Promise.race([
      graceful().then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (bound = setTimeout(() => resolve(false), ms))),
    ]);
  } catch {
    ended = true; // graceful() threw before it returned a promise: nothing left to wait for
  } finally {
    clearTimeout(bound);
  }
  if (ended) return;
  try {
    destroy();
  } catch {
    // the connection is gone already
  }
}
