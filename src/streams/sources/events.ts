/**
 * A hot source: the events of a Node EventEmitter or a DOM EventTarget. Events do not wait,
 * so the options must say how many may be held without demand and what happens past that
 * (see HotBuffer). Each subscriber attaches its own listener when it subscribes (events
 * before that are not seen) and detaches it on cancel or end.
 */
import { publisher } from '../publisher.js';
import type { Publisher } from '../types.js';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { HotBuffer, hotBufferOptions } from './buffered.js';
import type { HotBufferOptions } from './buffered.js';
import { badArgument } from '../arguments.js';

interface NodeEmitter {
  on(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  off(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
}
interface DomTarget {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

export interface FromEventsOptions<T> extends HotBufferOptions<T> {
  /** An event that completes the stream (e.g. 'end', 'close'). */
  readonly endEvent?: string;
  /** An event that fails the stream with its argument. @default 'error' for an EventEmitter */
  readonly errorEvent?: string;
}

const FROM_EVENTS_KEYS = optionKeys<FromEventsOptions<unknown>>({ capacity: true, overflow: true, onDrop: true, name: true, onChannel: true, endEvent: true, errorEvent: true });

/** The first argument of each `event` becomes an item (a DOM event object, for an EventTarget). */
export function fromEvents<T>(target: NodeEmitter | DomTarget, event: string, options: FromEventsOptions<T>): Publisher<T> {
  optKnownKeys('fromEvents', options, FROM_EVENTS_KEYS);
  const o = hotBufferOptions(options, 'fromEvents');
  const isNode = target !== null && typeof target === 'object' && typeof (target as NodeEmitter).on === 'function';
  if (!isNode && (target === null || typeof target !== 'object' || typeof (target as DomTarget).addEventListener !== 'function')) {
    throw badArgument('fromEvents', 'target', 'an EventEmitter or an EventTarget', target);
  }
  if (typeof event !== 'string' || event === '') throw badArgument('fromEvents', 'event', 'an event name (a non-empty string)', event);
  const errorEvent = options.errorEvent ?? (isNode ? 'error' : undefined);
  return publisher<T>(
    () => {
      const buffer = new HotBuffer<T>(o, `fromEvents(${event})`);
      const listen = (name: string, fn: (x: unknown) => void): (() => void) => {
        if (isNode) {
          (target as NodeEmitter).on(name, fn);
          return () => (target as NodeEmitter).off(name, fn);
        }
        (target as DomTarget).addEventListener(name, fn);
        return () => (target as DomTarget).removeEventListener(name, fn);
      };
      const detach: (() => void)[] = [];
      const stop = (): void => {
        for (const d of detach.splice(0)) d();
      };
      const source = {
        start: (e: Parameters<HotBuffer<T>['start']>[0]) => {
          buffer.start(e);
          detach.push(listen(event, (x) => void (buffer.offer(x as T) || stop())));
          if (options.endEvent !== undefined) detach.push(listen(options.endEvent, () => (stop(), buffer.end())));
          if (errorEvent !== undefined) detach.push(listen(errorEvent, (err) => (stop(), buffer.fail(err ?? new Error(`${errorEvent} event`)))));
        },
        pull: (e: Parameters<HotBuffer<T>['pull']>[0]) => buffer.pull(e),
        cancel: () => (stop(), buffer.cancel()),
      };
      return source;
    },
    { name: `fromEvents(${event})` },
  );
}
