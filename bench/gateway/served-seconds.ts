/**
 * A closed-loop row, second by second, as the upstream served it: wrk opens all its connections
 * at the row's start, and the gateway refuses each one's first request before the row settles
 * (bench/results/perf9-closed-2000-505b4f5-busy.md: ~2,220/s in the steady state, 700–2,000/s in the
 * first 2–3 s after the 100-connection warm-up). The row's goodput holds both; this splits them.
 */

/** Per whole second from the start, the requests the upstream finished; and their mean rate after the first `onsetS` seconds. */
export interface ServedSeconds {
  readonly perSecond: readonly number[];
  /** Requests per second over the whole seconds after the onset; NaN when the row has none. */
  readonly afterOnsetPerS: number;
}

/**
 * `departures`: when the upstream finished each request (ms, sorted; the clock of `startMs`).
 * Whole seconds of the row only (a partial last one is left out).
 */
export function servedSeconds(departures: readonly number[], startMs: number, seconds: number, onsetS: number): ServedSeconds {
  const whole = Math.max(0, Math.floor(seconds));
  const perSecond = new Array<number>(whole).fill(0);
  for (const t of departures) {
    const i = Math.floor((t - startMs) / 1000);
    if (i >= 0 && i < whole) perSecond[i]!++;
  }
  const after = perSecond.slice(onsetS);
  return { perSecond, afterOnsetPerS: after.length === 0 ? NaN : after.reduce((a, b) => a + b, 0) / after.length };
}
