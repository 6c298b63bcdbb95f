/**
 * The refusal pacer and the loop reading that engages it, wired as the gateway runs them.
 *
 * Once engaged, pausing is held while the pacer holds any connection paused: pausing is what
 * took the load off the loop, and released on that idle reading the storm came back unpaced
 * (loop-saturation.ts). So refusals that trickle in after a storm, each paused, hold it too
 * for as long as their pauses overlap; it is released at the first refusal (or reading) that
 * finds no connection paused and the loop idle past its dwell. A client who waits its
 * Retry-After loses nothing to a pause; a connection that carries other requests (a pool) does,
 * which is why a pool must be in `trustProxy`. Measured (reload22, bench/pacing-trickle.ts:
 * 5 and 20 clients over a rate limit, 2 requests a second each on one keep-alive connection,
 * right after a 2,000-connection storm): the trickle's pauses leave gaps (a rate refusal's
 * pause ends when the client's unit is there, their ends fall together), and pausing was
 * released within 3 s of the storm's end — the trickle's latency from then on the same as with
 * a rule that held only for 64 paused connections or more (bench/results/pacing-trickle-*-busy.md).
 * The rule is tested in test/gateway/pacing-trickle.test.ts.
 */
import type { LoopTimes } from '../pressure/event-loop-utilization-signal.js';
import { LoopSaturation } from './loop-saturation.js';
import { RefusalPacer } from './refusal-pacer.js';

/** Injected loop times, clock, jitter and sampling period: tests run minutes of load in none. */
export interface PacingTestHooks {
  readonly source?: () => LoopTimes;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly intervalMs?: number;
}

export function refusalPacing(
  server: { readonly pauseRefusedMs: number; readonly pauseRefusedLoad: number },
  answers: () => { readonly requests: number; readonly rejected: number },
  hooks: PacingTestHooks = {},
): { loop: LoopSaturation; pacer: RefusalPacer } {
  const { random, ...times } = hooks;
  const loop: LoopSaturation = new LoopSaturation({ threshold: server.pauseRefusedLoad, answers, holding: (): boolean => pacer.paused > 0, ...times });
  const pacer = new RefusalPacer(server.pauseRefusedMs, { saturated: () => loop.saturated, ...(random === undefined ? {} : { random }), ...(hooks.now === undefined ? {} : { now: hooks.now }) });
  return { loop, pacer };
}
