/**
 * Every default of `sluice/pressure`, in one place. The watermarks of each built-in signal
 * are in the signal's own unit: a ratio in [0, 1] for utilisation, heap and RSS; milliseconds
 * for delays. The queue watermarks (0.7 / 0.9) are the ones of the classic "adaptive
 * backpressure" recipe: warn producers at 70 % utilisation, reject at 90 %.
 */
import { deepFreeze } from '../core/deep-freeze.js';
export const PRESSURE_DEFAULTS = deepFreeze({
  /** Sampling period of a monitor, ms. */
  intervalMs: 1000,
  /** Time a signal's level is held before it may fall, ms. */
  minDwellMs: 0,
  /** Width of the band below a watermark in which a level holds, for custom signals. */
  hysteresis: 0,
  /** Queue utilisation: queued / capacity. */
  queue: { slowAt: 0.7, rejectAt: 0.9, hysteresis: 0.1 },
  /** Queueing delay of admitted work, ms, aggregated per sampling interval. */
  queueDelay: { slowAt: 100, rejectAt: 500, hysteresis: 50, aggregate: 'mean' },
  /** Event-loop delay beyond the timer resolution, ms, at a percentile of one interval. */
  eventLoopDelay: { slowAt: 50, rejectAt: 200, hysteresis: 20, percentile: 99, resolutionMs: 10 },
  /** Event-loop utilisation over one interval, in [0, 1]. */
  eventLoopUtilization: { slowAt: 0.9, rejectAt: 0.98, hysteresis: 0.05 },
  /** V8 heap used / heap size limit. */
  heap: { slowAt: 0.8, rejectAt: 0.9, hysteresis: 0.05 },
  /** Resident set size / memory limit (cgroup limit when set, else total memory). */
  rss: { slowAt: 0.8, rejectAt: 0.9, hysteresis: 0.05 },
  /** Autoscaler hook: a level held `dwellMs` asks for its delta, again every `repeatMs`. */
  autoscale: { dwellMs: 10_000, repeatMs: 10_000, slowDelta: 1, rejectDelta: 2, okDelta: 0 },
  /** Load shedder. */
  shedder: {
    /** In-flight units across all classes; Infinity tracks nothing and never refuses for capacity. */
    limit: Infinity,
    /** Fraction of `limit` the total in flight may reach for a class to be admitted. critical-plus: always 1. */
    ceilings: { critical: 0.9, 'sheddable-plus': 0.8, sheddable: 0.7 },
    /** Shed probability at level `slow`, linear in the pressure from `from` (0) to `to` (1). */
    ramps: { sheddable: { from: 0, to: 0 }, 'sheddable-plus': { from: 0, to: 1 } },
  },
} as const);
