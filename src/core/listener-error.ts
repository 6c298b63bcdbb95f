/**
 * Listeners and hooks a caller gives sluice (gate and breaker state listeners, pressure
 * listeners, `onDrop`, retry hooks, the autoscale hook) only listen: one that throws (or
 * rejects) is a `SLUICE_LISTENER_ERROR` warning, `sluice: <what>: <error>`, and the work it
 * was told of goes on. One place for the six that said it each in their own words.
 */

/** Warn that `what` failed (`what` says which listener and how: "a gate listener threw"). */
export function warnListenerError(what: string, err: unknown): void {
  process.emitWarning(`sluice: ${what}: ${String(err)}`, { code: 'SLUICE_LISTENER_ERROR' });
}

/** Call `listener(event)`; a throw is `warnListenerError(\`${who} threw\`)`, never the caller's. */
export function tellListener<E>(listener: (event: E) => unknown, event: E, who: string): void {
  try {
    listener(event);
  } catch (err) {
    warnListenerError(`${who} threw`, err);
  }
}
