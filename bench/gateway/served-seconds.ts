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

/**
 * The upstream's time-weighted mean of requests in service over [from, to) (ms, the clock of
 * `arrivals` and `departures`, both sorted, recorded from an empty upstream): in flight at t is
 * arrivals minus departures up to t, in service the smaller of that and its `concurrency` (its
 * FIFO starts the next request as one finishes). NaN for an empty span. The row's window, not
 * the whole run the upstream's own mean covers: the same seconds as the row's goodput.
 */
export function meanInServiceBetween(arrivals: readonly number[], departures: readonly number[], from: number, to: number, concurrency: number): number {
  if (!(to > from)) return NaN;
  let a = 0;
  let d = 0;
  let inFlight = 0;
  // Departures first at one instant: a slot freed and taken at once never counts twice.
  const next = (): number => Math.min(a < arrivals.length ? arrivals[a]! : Infinity, d < departures.length ? departures[d]! : Infinity);
  const step = (): void => {
    if (d < departures.length && (a >= arrivals.length || departures[d]! <= arrivals[a]!)) {
      inFlight--;
      d++;
    } else {
      inFlight++;
      a++;
    }
  };
  while (next() <= from) step();
  let area = 0;
  let t = from;
  while (next() < to) {
    const at = next();
    area += Math.min(Math.max(inFlight, 0), concurrency) * (at - t);
    t = at;
    step();
  }
  area += Math.min(Math.max(inFlight, 0), concurrency) * (to - t);
  return area / (to - from);
}
