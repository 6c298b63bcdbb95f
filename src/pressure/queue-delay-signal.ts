/**
 * Queueing delay: how long admitted work waited, fed as samples (`record(ms)`) or read from a
 * gate's admission events (`waitedMs`). Each sample of the monitor aggregates the delays seen
 * since the previous one. An interval with no admission reads 0: nothing waited, and a
 * stuck queue is the queue signal's business — holding the last value instead would keep a
 * shedder that refuses everything at `reject` for ever, since it then sees no admissions.
 */
import { InvalidOptionError, optionKeys, optKnownKeys, optOneOf } from '../core/index.js';
import type { GateListener } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

export type DelayAggregate = 'mean' | 'max' | 'min';

/** Anything with a sluice gate's listener API. */
export interface GateEventSource {
  on(listener: GateListener): () => void;
}

export interface QueueDelaySignalOptions extends WatermarkOptions {
  /** @default 'queue-delay' */
  readonly name?: string;
  /** Subscribe to this gate's `admit` events while the monitor runs. */
  readonly gate?: GateEventSource;
  /**
   * How the delays of one interval become one reading. `min` is CoDel's view (a standing
   * queue: even the luckiest waited), `max` the most sensitive. @default 'mean'
   */
  readonly aggregate?: DelayAggregate;
}

export interface QueueDelaySignal extends Signal {
  /** Feed one queueing delay, ms. Negative and NaN values are ignored. */
  record(delayMs: number): void;
}

/** Watermarks in ms, default 100 / 500 with hysteresis 50. */
const KEYS = optionKeys<QueueDelaySignalOptions>({ ...WATERMARK_KEYS, name: true, gate: true, aggregate: true });

export function queueDelaySignal(options: QueueDelaySignalOptions = {}): QueueDelaySignal {
  optKnownKeys('queueDelaySignal', options, KEYS);
  const name = signalName('name', options.name, 'queue-delay');
  const aggregate = optOneOf<DelayAggregate>(`${name}.aggregate`, options.aggregate ?? PRESSURE_DEFAULTS.queueDelay.aggregate, ['mean', 'max', 'min']);
  const watermarks = resolveWatermarks(name, options, { ...PRESSURE_DEFAULTS.queueDelay, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  const gate = options.gate;
  if (gate !== undefined && typeof gate.on !== 'function') throw new InvalidOptionError(`${name}.gate`, 'an object with on(listener)', gate);
  let count = 0;
  let sum = 0;
  let max = 0;
  let min = Infinity;
  let unsubscribe: (() => void) | undefined;
  const record = (delayMs: number): void => {
    if (!(delayMs >= 0)) return;
    count++;
    sum += delayMs;
    if (delayMs > max) max = delayMs;
    if (delayMs < min) min = delayMs;
  };
  const listener: GateListener = (e) => {
    if (e.type === 'admit') record(e.waitedMs);
  };
  return {
    name,
    watermarks,
    record,
    read: () => {
      const value = count === 0 ? 0 : aggregate === 'mean' ? sum / count : aggregate === 'max' ? max : min;
      count = 0;
      sum = 0;
      max = 0;
      min = Infinity;
      return value;
    },
    start: () => {
      if (gate !== undefined && unsubscribe === undefined) unsubscribe = gate.on(listener);
    },
    stop: () => {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
