/**
 * Room on its way from a lease, for a leased gate's early refusals (slot-lease.ts).
 */
import type { SlotGate, SlotReclaimer } from '../concurrency/slot-reclaimer.js';
import type { SlotLease } from './slot-lease.js';

/**
 * A leased gate's reclaimer: `inner`'s (the gateway's slow readers), and room on its way from the
 * lease. A caller that would queue while the lease can still take slots the others hold (for it
 * and the callers already waiting) is not refused early for the wait the gate estimates on what
 * this process holds now: it waits in the queue (up to its budget), its wait is demand, and the
 * slots come within a few ticks (the idle holder is told at once, LeaseLedger.onWanted). Refused
 * early instead, a burst that the kernel gave mostly to one worker was refused while the other
 * worker's slots sat idle (hostile-24: --workers 2 --concurrency 50 --queue-timeout 50ms, 55
 * requests of 2 s: 27 admitted, 28 refused 503 at once; 50 and 5 with one worker). Only `inner`
 * gives up slots (`reclaim`): the lease's come through the gate's limit.
 */
export function leaseRoom(inner: SlotReclaimer | undefined, leaseOf: (gate: SlotGate) => SlotLease | undefined): SlotReclaimer {
  return {
    reclaimable: (ask) => inner?.reclaimable(ask) === true || leaseOf(ask.gate)?.roomComing(ask.gate.queued + ask.units) === true,
    reclaim: (ask) => inner?.reclaim(ask) === true,
  };
}
