// Small helpers shared by the rate tests.
import { isPromise } from '../../src/core/index.js';
import type { Admission, Permit, Rejection } from '../../src/core/index.js';
import { MemoryStore } from '../../src/rate/index.js';
import type { RateDecision, RatePolicy, RateStore } from '../../src/rate/index.js';

export function now(a: Admission | Promise<Admission>): Admission {
  if (isPromise(a)) throw new Error('expected an immediate answer, got a promise');
  return a;
}

export function permit(a: Admission | Promise<Admission>): Permit {
  const x = now(a);
  if (!x.ok) throw new Error(`expected a permit, got a rejection (${x.reason}, retry after ${x.retryAfterMs})`);
  return x;
}

export function rejection(a: Admission | Promise<Admission>): Rejection {
  const x = now(a);
  if (x.ok) throw new Error('expected a rejection, got a permit');
  return x;
}

export function later(a: Admission | Promise<Admission>): Promise<Admission> {
  if (!isPromise(a)) throw new Error('expected a promise (a wait), got an immediate answer');
  return a;
}

/** Track whether a promise has settled, without awaiting it. */
export function track<T>(p: Promise<T>): { settled: () => boolean; value: () => T | undefined; error: () => unknown } {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  void p.then(
    (v) => {
      done = true;
      value = v;
    },
    (e: unknown) => {
      done = true;
      error = e;
    },
  );
  return { settled: () => done, value: () => value, error: () => error };
}

/** A store that answers asynchronously, as a remote one would; resolves when told to. */
export class AsyncStore implements RateStore {
  readonly inner = new MemoryStore();
  readonly pending: (() => void)[] = [];
  readonly refunds: [string, number][] = [];
  get size(): number {
    return this.inner.size;
  }
  consume(key: string, p: RatePolicy, cost: number, now: number, maxDelayMs: number): Promise<RateDecision> {
    const d = this.inner.consume(key, p, cost, now, maxDelayMs);
    return new Promise((resolve) => this.pending.push(() => resolve(d)));
  }
  refund(key: string, p: RatePolicy, cost: number, now: number): Promise<void> {
    this.refunds.push([key, cost]);
    this.inner.refund(key, p, cost, now);
    return Promise.resolve();
  }
  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.inner.delete(key));
  }
  clear(): void {
    this.inner.clear();
  }
  answer(): void {
    for (const f of this.pending.splice(0)) f();
  }
}

