/** The rules' checks in one place, so every stage words a violation the same way. */
import { StreamRuleError } from '../core/errors.js';
import type { Subscriber, Subscription } from './types.js';

/** Demand at or above this is unbounded (§3.17: JavaScript's 2^63 − 1 is 2^53 − 1). */
export const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** §3.9: a positive integer, or the error to signal. */
export function checkRequest(n: unknown): StreamRuleError | undefined {
  if (typeof n === 'number' && n > 0 && Number.isInteger(n)) return undefined;
  if (n === Infinity) return undefined;
  const what = typeof n === 'number' ? String(n) : n === undefined ? 'undefined' : typeof n;
  return new StreamRuleError('3.9', `request(n): expected a positive integer, received ${what}; the subscription was cancelled`);
}

/** §3.17: add, saturating at {@link UNBOUNDED}. */
export function addDemand(demand: number, n: number): number {
  return n >= UNBOUNDED - demand ? UNBOUNDED : demand + n;
}

/** §2.13: null and undefined are not items. */
export function checkItem(item: unknown): StreamRuleError {
  return new StreamRuleError('2.13', `an item may not be ${item === null ? 'null' : 'undefined'} (wrap it, or filter it out); the stream was failed`);
}

/** §1.9: `subscribe(x)` with x not a Subscriber throws TypeError. */
export function checkSubscriber<T>(s: unknown): Subscriber<T> {
  const o = s as Partial<Subscriber<T>> | null | undefined;
  if (o === null || (typeof o !== 'object' && typeof o !== 'function') || typeof o.onSubscribe !== 'function' || typeof o.onNext !== 'function' || typeof o.onError !== 'function' || typeof o.onComplete !== 'function') {
    throw new TypeError(`§1.9 subscribe: expected a Subscriber (onSubscribe, onNext, onError, onComplete), received ${o === null ? 'null' : typeof o}`);
  }
  return o as Subscriber<T>;
}

/** §2.13: a signal method of a sluice subscriber called without its argument throws TypeError. */
export function checkSubscription(s: unknown): Subscription {
  const o = s as Partial<Subscription> | null | undefined;
  if (o === null || typeof o !== 'object' || typeof o.request !== 'function' || typeof o.cancel !== 'function') {
    throw new TypeError(`§2.13 onSubscribe: expected a Subscription (request, cancel), received ${o === null ? 'null' : typeof o}`);
  }
  return o as Subscription;
}

/** §2.13: onNext(null | undefined) and onError(null | undefined) throw TypeError. */
export function checkSignalArg(value: unknown, method: 'onNext' | 'onError'): void {
  if (value === undefined || value === null) throw new TypeError(`§2.13 ${method}: expected ${method === 'onNext' ? 'an item' : 'an error'}, received ${value === null ? 'null' : 'undefined'}`);
}

/** A subscription that does nothing: handed to a refused subscriber before its onError (§1.9). */
export const NOOP_SUBSCRIPTION: Subscription = Object.freeze({ request() {}, cancel() {} });

/** Refuse a subscriber: onSubscribe(no-op) then onError (§1.9: the only legal way to refuse). */
export function refuse<T>(subscriber: Subscriber<T>, error: unknown): void {
  try {
    subscriber.onSubscribe(NOOP_SUBSCRIPTION);
    subscriber.onError(error);
  } catch (err) {
    process.emitWarning(`sluice/streams: a refused subscriber threw: ${String(err)}`, { code: 'SLUICE_SUBSCRIBER_ERROR' });
  }
}
