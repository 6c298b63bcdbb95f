/**
 * What a monitor tells its listeners: the combined level changed (`level`, once per change),
 * one signal's level changed (`signal`), a sample was taken (`sample`). Level changes are also
 * published on the `sluice:pressure` diagnostics channel.
 */
import dc from 'node:diagnostics_channel';
import type { PressureLevel } from './level.js';
import type { PressureSnapshot } from './snapshot.js';
import { tellListener } from '../core/listener-error.js';

export interface LevelChangeEvent {
  readonly type: 'level';
  readonly monitor: string;
  readonly from: PressureLevel;
  readonly to: PressureLevel;
  /** Clock time of the sample that changed it. */
  readonly at: number;
  readonly pressure: number;
  /** Signals now at the new level (empty when it is `ok`): what to look at. */
  readonly causes: readonly string[];
}

export interface SignalChangeEvent {
  readonly type: 'signal';
  readonly monitor: string;
  readonly signal: string;
  readonly from: PressureLevel;
  readonly to: PressureLevel;
  /** The reading that changed it. */
  readonly value: number;
  readonly at: number;
}

export interface SampleEvent {
  readonly type: 'sample';
  readonly monitor: string;
  readonly at: number;
  readonly snapshot: PressureSnapshot;
}

export interface PressureEventMap {
  readonly level: LevelChangeEvent;
  readonly signal: SignalChangeEvent;
  readonly sample: SampleEvent;
}

export type PressureEventType = keyof PressureEventMap;
export type PressureListener<K extends PressureEventType> = (event: PressureEventMap[K]) => void;

/** `sluice:pressure`: every combined level change of every monitor in the process. */
export const pressureChannel = dc.channel('sluice:pressure');

type AnyListener = (event: PressureEventMap[PressureEventType]) => void;

export class PressureEvents {
  readonly #listeners: Record<PressureEventType, AnyListener[]> = { level: [], signal: [], sample: [] };

  /** Subscribe; returns the unsubscribe function. */
  on<K extends PressureEventType>(type: K, listener: PressureListener<K>): () => void {
    const l = listener as AnyListener;
    // Copy on write: a listener that unsubscribes during an emit does not disturb the loop.
    this.#listeners[type] = [...this.#listeners[type], l];
    return () => {
      this.#listeners[type] = this.#listeners[type].filter((x) => x !== l);
    };
  }

  /** Whether an event of this type would reach anyone; check before building it. */
  wants(type: PressureEventType): boolean {
    return this.#listeners[type].length > 0 || (type === 'level' && pressureChannel.hasSubscribers);
  }

  emit<K extends PressureEventType>(event: PressureEventMap[K] & { readonly type: K }): void {
    if (event.type === 'level' && pressureChannel.hasSubscribers) pressureChannel.publish(event);
    // A listener must not stop the sampler: its failure is a warning.
    for (const l of this.#listeners[event.type]) tellListener(l, event, 'a pressure listener');
  }
}
