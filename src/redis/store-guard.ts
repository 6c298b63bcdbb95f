/**
 * Every call to Redis goes through one guard per connection: a timeout, and a circuit
 * breaker (sluice/breaker, consecutive failures) around the store, so an outage costs each
 * caller at most one timeout while the breaker is closed, and nothing once it is open:
 * calls are refused at once (the caller's `onStoreError` answers) and one probe goes to
 * Redis every `probeMs`. The first probe that succeeds closes it. Only the store's probe is a
 * probe: a decision is never let through a breaker that is not closed (its success said the
 * store was back when its one key's master answered — in a Redis Cluster with another master
 * down, health flapped to 'shared' while most decisions failed). The store probes at once
 * too when its client is connected again (`probeNow` on ioredis's 'ready'): shared state is
 * back within the client's reconnect delay (500 ms at most) and a PING of Redis returning,
 * whatever `probeMs`.
 *
 * Timeouts cost one timer per `timeoutMs`, not one per call: calls wait in issue order,
 * which is also deadline order (one timeout for all), and one timer set at the oldest
 * deadline expires what is due. It expires them from `setImmediate`, after the loop's poll
 * phase: after a stall of the event loop, replies already in the socket are read first, so a
 * busy process does not mistake its own lateness for the store's.
 *
 * In a Redis Cluster a failure counts for the master holding the call's key too: `failures`
 * calls in a row failed on one master open the breaker, however many the others answer
 * meanwhile. Counted over the store's calls alone, one silent master (SIGSTOP, a host gone
 * after the handshake) never opened it while the others answered between its timeouts: a
 * third of the decisions each waited the whole timeout, for as long as the cluster served the
 * other masters' slots (`cluster-require-full-coverage no`), health 'shared' all along. The
 * store's health is one for all its limits: its probe writes on every master.
 *
 * WRONGTYPE is not an outage: it passes through (as {@link StoreWrongTypeError}) and counts as
 * the store answering. Other errors Redis answers with (OOM, READONLY, BUSY, NOPERM) are: the
 * store's probe is a write (redis-store.ts), so that a Redis that answers PING but refuses
 * decisions keeps the store in its failure mode.
 */
import { CircuitBreaker } from '../breaker/circuit-breaker.js';
import { consecutiveFailures } from '../breaker/consecutive.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Permit } from '../core/types.js';
import { StoreUnavailableError, StoreWrongTypeError, isWrongType } from './store-errors.js';
import { optClock } from '../core/options.js';

export interface StoreGuardConfig {
  readonly timeoutMs: number;
  readonly failures: number;
  readonly probeMs: number;
  readonly clock?: Clock;
  /** Rewrite a failure's message before it is reported (the store adds why it is not connected). */
  readonly explain?: (why: string) => string;
  /** In a Redis Cluster: the master holding a key (its address), whose failures in a row are counted apart. */
  readonly nodeOf?: (key: string) => string | undefined;
}

/** Counts since the guard was made. */
export interface StoreGuardStats {
  /** Calls sent to Redis. */
  readonly sent: number;
  /** Of those, answered too late (counted at the timeout). */
  readonly timedOut: number;
  /** Of those, failed (connection lost or refused). */
  readonly failed: number;
  /** Calls not sent: the breaker was open or its probe out. */
  readonly shortCircuited: number;
}

/** Whether decisions are shared (Redis answers) or local (the breaker is open). */
export type StoreHealth = 'shared' | 'fallback';

interface Call {
  readonly deadline: number;
  done: boolean;
  readonly permit: Permit;
  readonly fail: (err: Error) => void;
  /** The master the call went to (a cluster's), or undefined. */
  readonly node: string | undefined;
  next: Call | undefined;
}

export class StoreGuard {
  readonly timeoutMs: number;
  readonly #clock: Clock;
  readonly #breaker: CircuitBreaker;
  readonly #explain: (why: string) => string;
  readonly #nodeOf: ((key: string) => string | undefined) | undefined;
  readonly #failures: number;
  /** A cluster's masters with a failure as their last outcome: how many in a row. */
  readonly #nodeFailures = new Map<string, number>();
  #head: Call | undefined;
  #tail: Call | undefined;
  #timer: TimerHandle | undefined;
  #lastError: string | undefined;
  #outstanding = 0;
  #idle: (() => void)[] = [];
  #sent = 0;
  #timedOut = 0;
  #failed = 0;
  #shortCircuited = 0;
  /** The breaker is closed: calls go to Redis (kept by its state changes, so the hot path reads no clock). */
  #shared = true;

  constructor(c: StoreGuardConfig) {
    this.timeoutMs = c.timeoutMs;
    this.#clock = optClock(c.clock);
    this.#explain = c.explain ?? ((why) => why);
    this.#nodeOf = c.nodeOf;
    this.#failures = c.failures;
    this.#breaker = new CircuitBreaker({ name: 'redis-store', clock: this.#clock, rule: consecutiveFailures({ threshold: c.failures }), openMs: c.probeMs });
    this.#breaker.onStateChange((ch) => void (this.#shared = ch.to === 'closed'));
  }

  /** 'fallback' while the breaker is open or probing. */
  get health(): StoreHealth {
    return this.#breaker.state === 'closed' ? 'shared' : 'fallback';
  }

  /** The last outage's cause, for logs and /readyz. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  stats(): StoreGuardStats {
    return { sent: this.#sent, timedOut: this.#timedOut, failed: this.#failed, shortCircuited: this.#shortCircuited };
  }

  /** Listen for health changes; returns the unsubscribe function. */
  onHealth(listener: (health: StoreHealth, cause: string | undefined) => void): () => void {
    return this.#breaker.onStateChange((ch) => {
      const before = ch.from === 'closed' ? 'shared' : 'fallback';
      const after = ch.to === 'closed' ? 'shared' : 'fallback';
      if (before !== after) listener(after, this.#lastError);
    });
  }

  /** Trip at once (the first connection failed: start in the failure mode). */
  trip(cause: string): void {
    this.#lastError = cause;
    this.#startCause = cause;
    this.#breaker.trip();
  }

  /**
   * Probe now (the client's 'ready': the connection is back; or the store's probe timer): end
   * the open time and send `ping` as the half-open probe, rather than wait out `probeMs`. One
   * probe, the breaker's own: it admits `probes` (1) at once, a success closes it, a failure
   * opens it again for `probeMs`. A closed breaker is left as it is; a half-open one probes if
   * its probe is not out already. The only way a breaker that is not closed sends a call.
   */
  probeNow(ping: () => Promise<unknown>): void {
    const state = this.#breaker.state;
    if (state === 'closed') return;
    if (state === 'open') this.#breaker.halfOpen();
    else if (this.#breaker.stats().probes.inFlight > 0) return;
    this.#call('', invoke, ping, true).catch(() => undefined);
  }

  /**
   * Why a store that has not answered since `trip` was unreachable at start: kept in front of
   * every later cause (a probe's "Stream isn't writeable" would otherwise hide it from
   * /readyz and the log) until Redis answers once.
   */
  #startCause: string | undefined;

  #record(why: string): void {
    this.#lastError = this.#startCause === undefined ? why : `${this.#startCause}; since then: ${why}`;
  }

  /**
   * Run `call` under the timeout and the breaker. Rejects with StoreUnavailableError when
   * the breaker is open, the call times out or fails to reach Redis; with
   * StoreWrongTypeError (naming `key`) on WRONGTYPE.
   */
  run<T>(key: string, call: () => Promise<T>): Promise<T> {
    return this.runWith(key, invoke, call);
  }

  /** {@link run} of `fn(arg)`: a hot path passes a function made once and its argument, not a closure per call. */
  runWith<A, T>(key: string, fn: (arg: A) => Promise<T>, arg: A): Promise<T> {
    return this.#call(key, fn, arg, false);
  }

  #call<A, T>(key: string, fn: (arg: A) => Promise<T>, arg: A, probe: boolean): Promise<T> {
    if (!this.#shared && !probe) return this.#refuse(this.#breaker.stats().retryAfterMs);
    const a = this.#breaker.admit();
    if (!a.ok) return this.#refuse(a.retryAfterMs);
    this.#sent++;
    this.#outstanding++;
    return new Promise<T>((resolve, reject) => {
      const node = probe || this.#nodeOf === undefined ? undefined : this.#nodeOf(key);
      const c: Call = { deadline: this.#clock.now() + this.timeoutMs, done: false, permit: a, fail: reject, node, next: undefined };
      this.#enqueue(c);
      let p: Promise<T>;
      try {
        p = fn(arg);
      } catch (err) {
        p = Promise.reject(err as Error);
      }
      p.then(
        (v) => {
          if (c.done) return;
          this.#settled(c);
          this.#startCause = undefined;
          if (node !== undefined) this.#nodeFailures.delete(node);
          a.release('success');
          resolve(v);
        },
        (err: unknown) => {
          if (c.done) return;
          this.#settled(c);
          if (isWrongType(err)) {
            if (node !== undefined) this.#nodeFailures.delete(node);
            a.release('success');
            reject(new StoreWrongTypeError(key, err));
            return;
          }
          const why = this.#explain(err instanceof Error ? err.message : String(err));
          this.#failed++;
          this.#record(why);
          a.release('failure');
          this.#nodeFailed(node);
          reject(new StoreUnavailableError(why, err));
        },
      );
    });
  }

  #refuse<T>(retryAfterMs: number): Promise<T> {
    this.#shortCircuited++;
    const next = retryAfterMs > 0 ? `next probe in ${Math.ceil(retryAfterMs)} ms` : 'probing';
    return Promise.reject(new StoreUnavailableError(`unavailable (${this.#lastError ?? 'breaker open'}); ${next}`));
  }

  /** Resolves once no call is outstanding (each settles by its timeout at the latest). */
  settled(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stop the timer; calls still waiting time out now. */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    for (let c = this.#head; c !== undefined; c = c.next) if (!c.done) this.#expire(c, 'the store closed');
    this.#head = this.#tail = undefined;
  }

  #enqueue(c: Call): void {
    if (this.#tail === undefined) this.#head = c;
    else this.#tail.next = c;
    this.#tail = c;
    if (this.#timer === undefined) this.#arm(c.deadline);
  }

  #arm(at: number): void {
    const t = this.#clock.setTimer(() => setImmediate(() => this.#sweep()), at - this.#clock.now());
    (t as { unref?: () => void }).unref?.();
    this.#timer = t;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    let c = this.#head;
    while (c !== undefined && (c.done || c.deadline <= now)) {
      if (!c.done) {
        this.#timedOut++;
        this.#expire(c, `no answer within ${this.timeoutMs} ms`);
        this.#nodeFailed(c.node);
      }
      c = c.next;
    }
    this.#head = c;
    if (c === undefined) this.#tail = undefined;
    else this.#arm(c.deadline);
  }

  #settled(c: Call): void {
    c.done = true;
    // Answers come mostly in issue order: drop the answered calls at the head now, so the
    // queue holds the calls in flight, not every call of the last timeoutMs (which the
    // garbage collector would otherwise promote and sweep at a cost). The timer stays
    // armed; its sweep finds nothing due and re-arms only for a call still waiting.
    let h = this.#head;
    while (h !== undefined && h.done) h = h.next;
    this.#head = h;
    if (h === undefined) this.#tail = undefined;
    if (--this.#outstanding === 0 && this.#idle.length > 0) for (const f of this.#idle.splice(0)) f();
  }

  #expire(c: Call, why: string): void {
    this.#settled(c);
    this.#record(why);
    c.permit.release('failure');
    c.fail(new StoreUnavailableError(why));
  }

  /** A call to `node` failed: the breaker opens at its `failures`-th in a row, whatever the other masters answered. */
  #nodeFailed(node: string | undefined): void {
    if (node === undefined) return;
    const n = (this.#nodeFailures.get(node) ?? 0) + 1;
    if (n < this.#failures) {
      this.#nodeFailures.set(node, n);
      return;
    }
    this.#nodeFailures.clear();
    if (!this.#shared) return;
    this.#lastError = `${this.#lastError ?? 'failed'} (master ${node}: ${n} calls in a row failed)`;
    this.#breaker.trip();
  }
}

function invoke<T>(call: () => Promise<T>): Promise<T> {
  return call();
}
