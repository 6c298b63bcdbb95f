/**
 * The contract between a limit algorithm and the gate that enforces its limit (Netflix
 * concurrency-limits' `Limit.onSample(startTime, rtt, inflight, didDrop)`): the algorithm
 * only sees samples and produces a number; it never admits or rejects anything.
 */

/** One finished unit of work, as the gate saw it. */
export interface LimitSample {
  /** Gate clock time at which the work was granted, ms. */
  readonly startTime: number;
  /** From grant to release on the gate's clock, ms (a windowed sampler passes its aggregate). */
  readonly rttMs: number;
  /** Units in flight at the gate when this work was granted, itself included (a window: the maximum). */
  readonly inFlight: number;
  /** The work timed out or was shed downstream (released with outcome `dropped`). */
  readonly dropped: boolean;
}

/**
 * A limit algorithm. Its state is plain data: `state()` returns a JSON-safe copy and
 * `restore()` takes one back, so a store can hold it. One instance drives one gate.
 */
export interface LimitAlgorithm<S = unknown> {
  /** `aimd`, `vegas`, `gradient2`, `windowed(vegas)`, ... */
  readonly name: string;
  /** Current estimate, within [minLimit, maxLimit]; may be fractional, the gate enforces `Math.round` of it. */
  readonly limit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Feed one sample; returns the new {@link limit}. */
  onSample(sample: LimitSample): number;
  /** A copy of the state, plain data. */
  state(): S;
  /** Replace the state with one from {@link state} (validated; throws InvalidArgumentError). */
  restore(state: S): void;
}
