/**
 * A closed-loop row's two parts (issue 9): wrk opens all its connections at once, and the gateway
 * refuses each one's first request before the row settles — the onset, 0.4–2.5 s at 2,000
 * connections (bench/results/perf9-closed-2000-505b4f5-busy.md) — then the steady state. The row
 * counted both, so its goodput moved by ~15% with the onset's length (which warm-up came before it),
 * and the closed-loop goals, which are about the steady state, were judged on a mix. wrk now runs
 * the onset and then the row's seconds, its script counting the answers after the onset apart
 * (wrk.ts `fromS`); the row's figures are the window's, and the onset's are reported beside them.
 * Pure: no timing, no processes.
 */
import type { WrkResult } from './wrk.js';

/** What wrk got during the onset (its first seconds, not counted in the row). */
export interface OnsetFacts {
  readonly seconds: number;
  /** 2xx per second. */
  readonly goodput: number;
  /** 429 + 503 per second. */
  readonly refusedPerS: number;
}

/** What wrk got in the row's window (after the onset). */
export interface WindowFacts {
  readonly seconds: number;
  /** Every answer in the window. */
  readonly requests: number;
  readonly good: number;
  readonly refused: number;
  /** Of the refusals, those with Retry-After. */
  readonly retryAfter: number;
  /** Answers other than 2xx/429/503. */
  readonly other: number;
}

const isGood = (s: number): boolean => s >= 200 && s < 300;
const isRefusal = (s: number): boolean => s === 429 || s === 503;

/** Answers in `codes` whose status passes `pred`. */
export function countCodes(codes: Readonly<Record<string, number>>, pred: (status: number) => boolean): number {
  return Object.entries(codes).reduce((n, [k, v]) => n + (pred(Number(k)) ? v : 0), 0);
}

/** The window's answers; the whole run's when wrk counted no window (no `fromS`). */
export function windowFacts(r: WrkResult): WindowFacts {
  const w = r.window ?? { seconds: r.seconds, codes: r.codes, retryAfter: r.retryAfter };
  const requests = countCodes(w.codes, () => true);
  const good = countCodes(w.codes, isGood);
  const refused = countCodes(w.codes, isRefusal);
  return { seconds: w.seconds, requests, good, refused, retryAfter: w.retryAfter, other: requests - good - refused };
}

/** The onset's answers: the whole run's less the window's; undefined without a window. */
export function onsetFacts(r: WrkResult): OnsetFacts | undefined {
  if (r.window === undefined) return undefined;
  const seconds = r.seconds - r.window.seconds;
  if (!(seconds > 0)) return { seconds: 0, goodput: NaN, refusedPerS: NaN };
  const good = countCodes(r.codes, isGood) - countCodes(r.window.codes, isGood);
  const refused = countCodes(r.codes, isRefusal) - countCodes(r.window.codes, isRefusal);
  return { seconds, goodput: good / seconds, refusedPerS: refused / seconds };
}

/** How many of the sorted `times` fall in [from, to). */
export function countBetween(times: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t < to) n++;
  return n;
}
