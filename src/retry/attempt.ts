/**
 * One attempt under a time limit and the caller's signal. The attempt's AbortSignal aborts
 * when its time is up (reason: a 'TimeoutError' DOMException, as `AbortSignal.timeout`
 * uses) or when the caller aborts; either way the attempt settles at once, even if `fn`
 * ignores its signal (its late result is then dropped).
 */
import { AbortedError } from '../core/index.js';
import type { Clock, TimerHandle } from '../core/index.js';

/** The function retried: it gets its attempt's signal and number (1 = the first). */
export type Attempt<T> = (signal: AbortSignal, attempt: number) => T | PromiseLike<T>;

/** A signal that never aborts: attempts with no time limit and no caller signal share it. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * @param endsAt absolute clock time at which the attempt times out (Infinity: never)
 * @param why the timeout's message
 */
export function runAttempt<T>(fn: Attempt<T>, attempt: number, caller: AbortSignal | undefined, clock: Clock, endsAt: number, why: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ac = endsAt === Infinity ? undefined : new AbortController();
    const signal = ac?.signal ?? caller ?? NEVER_ABORTED;
    let timer: TimerHandle | undefined;
    let settled = false;
    const done = (): void => {
      settled = true;
      if (timer !== undefined) clock.clearTimer(timer);
      caller?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      done();
      ac?.abort(caller!.reason);
      reject(new AbortedError('retry', caller!.reason));
    };
    if (ac !== undefined) {
      timer = clock.setTimer(() => {
        if (settled) return;
        done();
        const e = new DOMException(why, 'TimeoutError');
        ac.abort(e);
        reject(e);
      }, endsAt - clock.now());
    }
    caller?.addEventListener('abort', onAbort, { once: true });
    let result: T | PromiseLike<T>;
    try {
      result = fn(signal, attempt);
    } catch (err) {
      if (!settled) {
        done();
        reject(err as Error);
      }
      return;
    }
    Promise.resolve(result).then(
      (v) => {
        if (settled) return;
        done();
        resolve(v);
      },
      (err: unknown) => {
        if (settled) return;
        done();
        reject(err as Error);
      },
    );
  });
}

/** Wait `ms` on the clock; the caller's abort rejects at once with AbortedError. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimer(timer);
      reject(new AbortedError('retry', signal!.reason));
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
