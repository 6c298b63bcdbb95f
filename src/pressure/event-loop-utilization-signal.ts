/**
 * Event-loop utilisation: the share of one sampling interval the loop spent running code
 * rather than waiting in the poll phase, from `performance.eventLoopUtilization()` deltas
 * (ELU = Δactive / (Δactive + Δidle)). Unlike delay, it sees a loop that is busy but still on
 * time, so it warns before latency grows.
 */
import { performance } from 'node:perf_hooks';
import { InvalidOptionError, optionKeys, optKnownKeys } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

/** Cumulative idle and active time, ms, as `performance.eventLoopUtilization()` returns. */
export interface LoopTimes {
  readonly idle: number;
  readonly active: number;
}

export interface EventLoopUtilizationSignalOptions extends WatermarkOptions {
  /** @default 'event-loop-utilization' */
  readonly name?: string;
  /** Cumulative loop times. @default () => performance.eventLoopUtilization() */
  readonly source?: () => LoopTimes;
}

/** Watermarks as a ratio, default 0.9 / 0.98 with hysteresis 0.05. */
const KEYS = optionKeys<EventLoopUtilizationSignalOptions>({ ...WATERMARK_KEYS, name: true, source: true });

export function eventLoopUtilizationSignal(options: EventLoopUtilizationSignalOptions = {}): Signal {
  optKnownKeys('eventLoopUtilizationSignal', options, KEYS);
  const name = signalName('name', options.name, 'event-loop-utilization');
  const source = options.source ?? ((): LoopTimes => performance.eventLoopUtilization());
  if (typeof source !== 'function') throw new InvalidOptionError(`${name}.source`, 'a function', source);
  const watermarks = resolveWatermarks(name, options, { ...PRESSURE_DEFAULTS.eventLoopUtilization, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  let last: LoopTimes | undefined;
  return {
    name,
    watermarks,
    read: () => {
      const now = source();
      const prev = last;
      last = now;
      if (prev === undefined) return 0;
      const active = now.active - prev.active;
      const total = active + (now.idle - prev.idle);
      return total > 0 ? active / total : 0;
    },
    start: () => {
      last = source();
    },
  };
}
