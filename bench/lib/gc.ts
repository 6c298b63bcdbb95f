/** Forced collection between samples, when the process runs with --expose-gc. */

/** Collect twice: the first pass may only move objects out of the young generation. */
export function collect(): void {
  const gc = globalThis.gc;
  if (gc === undefined) return;
  gc();
  gc();
}

export const canCollect = (): boolean => typeof globalThis.gc === 'function';
