/**
 * A worker that fails to start (its replacement crashed at its start, exited before it
 * listened, or could not be forked) is forked again after a capped exponential backoff:
 * `delay(n) = min(RESTART_CAP_MS, RESTART_BASE_MS × 2^(n-1))` for its n-th failure in a row
 * (1 s, 2 s, 4 s … 30 s), for as long as it fails — a worker that cannot start now may once
 * what stopped it (a full disk, a process limit, a port) is gone. Its failure is logged once per
 * cause, not once per try (a try every 30 s for a night is 1,000 lines of the same error); its
 * start once it listens again. Until reload-edges a replacement that failed to start was never
 * tried again and logged once: the gateway served on with fewer workers while /status said
 * every reload `applied` and /readyz `ready`. What is failing is `/status` `degraded.failing`.
 */
import { backoffDelay } from '../retry/index.js';
import type { Logger } from './logger.js';

/** The first retry's delay, ms; each failure in a row doubles it. */
export const RESTART_BASE_MS = 1_000;
/** The longest delay between two tries, ms. */
export const RESTART_CAP_MS = 30_000;

/** A worker failing to start, for `/status` `degraded.failing`. */
export interface RestartFailure {
  readonly worker: number;
  /** Its failed starts in a row. */
  readonly tries: number;
  /** When its first failed start in a row was (ISO 8601). */
  readonly since: string;
  /** Its last failure. */
  readonly error: string;
}

/** `delay(n)`: the wait after the n-th failed start in a row (n ≥ 1), ms. */
export function restartDelayMs(failures: number): number {
  return backoffDelay('none', Math.max(1, failures), RESTART_BASE_MS, RESTART_BASE_MS, RESTART_CAP_MS, Math.random);
}

export class WorkerRestarts {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #failing = new Map<number, { tries: number; since: number; error: string; logged: Set<string> }>();

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger;
    this.#now = now;
  }

  /** Worker `index` failed to start with `error`: the wait before its next try, ms. Logged once per cause. */
  failed(index: number, error: string): number {
    const f = this.#failing.get(index) ?? { tries: 0, since: this.#now(), error, logged: new Set<string>() };
    this.#failing.set(index, f);
    f.tries++;
    f.error = error;
    const delayMs = restartDelayMs(f.tries);
    if (!f.logged.has(error)) {
      f.logged.add(error);
      this.#logger.error('worker failed to start: forking it again with a backoff (logged once per cause)', { worker: index, error, tries: f.tries, retryInMs: delayMs, maxRetryMs: RESTART_CAP_MS });
    }
    return delayMs;
  }

  /** Worker `index` listens: a failing one is logged started again. */
  started(index: number): void {
    const f = this.#failing.get(index);
    if (f === undefined) return;
    this.#failing.delete(index);
    this.#logger.info('worker started again after failed starts', { worker: index, failedTries: f.tries, downMs: this.#now() - f.since });
  }

  /** The workers failing to start, by index. */
  snapshot(): RestartFailure[] {
    return [...this.#failing].sort(([a], [b]) => a - b).map(([worker, f]) => ({ worker, tries: f.tries, since: new Date(f.since).toISOString(), error: f.error }));
  }
}

/** Who waits for a worker (by index) to listen again after its replacement was asked (worker-rollout.ts's rolling replacements). */
export class Waiters {
  readonly #waiting = new Map<number, (() => void)[]>();
  #stopped = false;

  /** Resolves once worker `index` listens again, or {@link stop}. */
  wait(index: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.set(index, [...(this.#waiting.get(index) ?? []), resolve]));
  }

  /** Worker `index` listens. */
  done(index: number): void {
    for (const resolve of this.#waiting.get(index) ?? []) resolve();
    this.#waiting.delete(index);
  }

  /** The gateway drains: nobody waits any more. */
  stop(): void {
    this.#stopped = true;
    for (const index of [...this.#waiting.keys()]) this.done(index);
  }
}
