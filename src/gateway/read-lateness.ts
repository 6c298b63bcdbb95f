/**
 * How late this thread's event loop may have been in reading an upstream's response: what an
 * adaptive limit's sample leaves out of the upstream's time (proxy.ts), so that a gateway whose
 * loop is saturated (long turns of refusals, a GC pause, a busy host) is not read as an upstream
 * that queues — the limit fell while the upstream idled (bench/gateway/README.md, issue 9).
 *
 *   lateness = the loop's active time (ELU's: not waiting in the poll for I/O; time the process
 *              was runnable but descheduled included) since the check phase of the last turn
 *              that read a response
 *
 * Why that: a response read in turn k's poll phase arrived after turn k-1's poll began, and
 * waited unread while the loop ran, never while it waited in the poll (that returns at once
 * with it). When a response is read every turn (a gateway under load), this counts the turn in
 * progress and the end of the one before — a lower bound of the wait: one that came early in
 * turn k-1's poll phase also waited for the rest of it, which is left in the sample. When the
 * last turn that read one is older, it counts the loop's time before the arrival too: an
 * overestimate, so the sample may come out <= 0 — then it is no sample (ConcurrencyGate).
 * A calm loop's active time is microseconds: the sample is the upstream's time as measured.
 *
 * One mark per thread (a gateway worker is a process; its loop is this module's): a
 * `setImmediate` once per turn that reads a response, none while nothing is read.
 */
import { performance } from 'node:perf_hooks';

let markActive: number | undefined;
let armed = false;

const mark = (): void => {
  armed = false;
  markActive = performance.eventLoopUtilization().active;
};

/** At a response's read: how long the loop may have kept it waiting, ms (0 before the first mark). */
export function readLateness(): number {
  const active = performance.eventLoopUtilization().active;
  if (!armed) {
    armed = true;
    setImmediate(mark);
  }
  return markActive === undefined ? 0 : Math.max(0, active - markActive);
}
