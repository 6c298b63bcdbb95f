/**
 * One subscription of a source-backed publisher: demand accounting, serial signalling,
 * cancellation and the rules, so a source only says what to emit (docs/streams.md, "How to
 * write a Publisher").
 *
 * Re-entrancy (§1.3, §3.3): a `request()` made while a pull or a signal is on the stack only
 * adds demand; the loop that is already running sees it. So a subscriber that requests from
 * inside `onNext` never recurses into the source, and the stack depth stays constant however
 * many items flow synchronously.
 */
import { StreamRuleError } from '../core/errors.js';
import type { Subscriber, Subscription } from './types.js';
import { addDemand, checkItem, checkRequest, UNBOUNDED } from './rules.js';

/** What a source is given to emit with. */
export interface Emitter<T> {
  /** Items the subscriber asked for and has not received; `Number.MAX_SAFE_INTEGER` = unbounded. */
  readonly demand: number;
  /** True once cancelled or ended: stop producing. */
  readonly cancelled: boolean;
  /** Aborts when the subscription is cancelled (created on first read); its `reason` is the cancel's (see Source.cancel). */
  readonly signal: AbortSignal;
  /**
   * Emit one item; only while `demand > 0` (emitting past demand fails the stream, §1.1).
   * `null` and `undefined` are not items (§2.13): they fail the stream with a StreamRuleError.
   * Returns whether more is wanted now (demand left and not cancelled).
   */
  next(item: T): boolean;
  /** End successfully (§1.5). Later calls are ignored (§1.7). */
  complete(): void;
  /** End with an error (§1.4). Later calls are ignored (§1.7). */
  error(error: unknown): void;
  /** Data became available outside a pull (a push source): pull again if demand is outstanding. */
  wake(): void;
}

/** What a publisher's source implements; one instance per subscription. */
export interface Source<T> {
  /**
   * Called after `onSubscribe` returned, before any pull; may end the stream at once (an empty
   * source may complete without demand, §1.4/§1.5).
   */
  start?(emitter: Emitter<T>): void;
  /**
   * Demand is outstanding and no pull is running: emit up to `emitter.demand` items, now or
   * later. Return a promise to say "still pulling": no other pull starts until it settles (a
   * rejection fails the stream). Called again while demand remains and the last pull emitted
   * something; a pull that emitted nothing is not repeated until more demand arrives or the
   * source calls `emitter.wake()`.
   */
  pull(emitter: Emitter<T>): void | PromiseLike<void>;
  /**
   * The subscription was cancelled: release resources. At most once; never after the source ended
   * the stream itself. `reason` says why: the StreamRuleError the subscriber is failed with (§3.9,
   * §2.13: its `cause` is what the subscriber threw), the reason given to `cancel(reason)`, or a
   * DOMException named 'AbortError' for a plain `cancel()`.
   */
  cancel?(reason: unknown): void;
}

type State = 'subscribing' | 'active' | 'done';

export class Emission<T> implements Subscription, Emitter<T> {
  #sub: Subscriber<T> | undefined;
  #source: Source<T> | undefined;
  #demand = 0;
  #state: State = 'subscribing';
  /** A sync pull, start() or a signal is on the stack: request() only records. */
  #busy = false;
  /** onSubscribe or onNext is on the stack: emissions queue, terminal signals wait (§1.3). */
  #signalling = false;
  /** An async pull is in progress. */
  #awaiting = false;
  /** More demand or a wake arrived: the running loop should pull again. */
  #again = false;
  #emitted = 0;
  /** A terminal signal raised while a signal was on the stack, delivered after it returns. */
  #terminal: { readonly error: unknown } | null | undefined = undefined;
  /** Items emitted re-entrantly from inside onNext (a source driven by its own subscriber). */
  #reentrant: T[] | undefined;
  #abort: AbortController | undefined;
  /** Why the subscription ended early (for the source's cancel and the signal's reason). */
  #reason: unknown;

  constructor(subscriber: Subscriber<T>, source: Source<T>) {
    this.#sub = subscriber;
    this.#source = source;
  }

  get demand(): number {
    return this.#demand;
  }

  get cancelled(): boolean {
    return this.#state === 'done';
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#state === 'done' && !this.#abort.signal.aborted) this.#abort.abort(this.#reason);
    return this.#abort.signal;
  }

  /** Items delivered so far. */
  get emitted(): number {
    return this.#emitted;
  }

  /** §1.9: onSubscribe first, then the source's start, then pulls as demand arrives. */
  begin(): void {
    const sub = this.#sub!;
    this.#busy = true;
    this.#signalling = true;
    try {
      sub.onSubscribe(this);
    } catch (err) {
      this.#busy = this.#signalling = false;
      this.#subscriberThrew(err, 'onSubscribe');
      return;
    }
    this.#busy = this.#signalling = false;
    // Cancelled, or failed (§3.9: a bad request() from inside onSubscribe), before the source started.
    if (this.#state !== 'subscribing' || this.#terminal !== undefined) {
      this.#flushTerminal();
      return;
    }
    this.#state = 'active';
    if (this.#source!.start !== undefined) {
      this.#busy = true;
      try {
        this.#source!.start(this);
      } catch (err) {
        this.#busy = false;
        this.error(err);
        return;
      } finally {
        this.#busy = false;
      }
      if (this.#flushTerminal()) return;
    }
    if (this.#demand > 0) this.#drive();
  }

  request(n: number): void {
    if (this.#state === 'done') return; // §3.6
    const bad = checkRequest(n);
    if (bad !== undefined) {
      this.#fail(bad);
      return;
    }
    this.#demand = addDemand(this.#demand, n);
    this.#again = true;
    if (!this.#busy && !this.#awaiting && this.#state === 'active') this.#drive();
  }

  cancel(reason?: unknown): void {
    if (this.#state === 'done') return; // §3.5, §3.7
    this.#reason = reason ?? cancelled();
    this.#end();
    const source = this.#source;
    this.#source = undefined;
    this.#cancelSource(source);
  }

  next(item: T): boolean {
    const sub = this.#sub;
    if (sub === undefined || this.#state === 'done') return false;
    if (this.#demand === 0) {
      this.#fail(new StreamRuleError('1.1', `a source emitted an item with no outstanding demand (${this.#emitted} delivered so far); a source emits only while emitter.demand > 0`));
      return false;
    }
    if (item === undefined || item === null) {
      this.#fail(checkItem(item));
      return false;
    }
    if (this.#demand !== UNBOUNDED) this.#demand--;
    if (this.#signalling) {
      // Emitted from inside onNext (a source its own subscriber drives): delivered after it returns (§1.3).
      (this.#reentrant ??= []).push(item);
      return this.#demand > 0;
    }
    const outer = this.#busy;
    this.#deliver(sub, item);
    this.#busy = outer;
    if (this.#terminal !== undefined) {
      this.#flushTerminal();
      return false;
    }
    if (!outer && this.#again && !this.#awaiting && this.#demand > 0 && this.#state === 'active') this.#drive();
    return this.#demand > 0 && !this.cancelled;
  }

  /** onNext (and what the source emitted from inside it) with §2.13 handling; leaves #busy set. */
  #deliver(sub: Subscriber<T>, item: T): void {
    this.#busy = true;
    this.#signalling = true;
    this.#emitted++;
    try {
      sub.onNext(item);
      const queued = this.#reentrant;
      if (queued !== undefined) {
        for (let i = 0; i < queued.length && this.#sub !== undefined; i++) {
          this.#emitted++;
          sub.onNext(queued[i]!);
        }
        this.#reentrant = undefined;
      }
    } catch (err) {
      this.#signalling = false;
      this.#subscriberThrew(err, 'onNext');
      return;
    }
    this.#signalling = false;
  }

  complete(): void {
    this.#terminate(null);
  }

  error(error: unknown): void {
    this.#terminate({ error: error ?? new TypeError('a source signalled an error without a value') });
  }

  wake(): void {
    if (this.#state !== 'active') return;
    this.#again = true;
    if (!this.#busy && !this.#awaiting && this.#demand > 0) this.#drive();
  }

  /** Pull while demand is outstanding and pulls make progress. */
  #drive(): void {
    this.#busy = true;
    try {
      while (this.#again && this.#demand > 0 && this.#state === 'active') {
        this.#again = false;
        const before = this.#emitted;
        const r = this.#source!.pull(this);
        if (r !== undefined && typeof r.then === 'function') {
          this.#awaiting = true;
          r.then(
            () => this.#pulled(before),
            (err: unknown) => {
              this.#awaiting = false;
              this.error(err);
            },
          );
          break;
        }
        if (this.#emitted !== before) this.#again = true;
      }
    } catch (err) {
      this.#busy = false;
      this.error(err);
      return;
    }
    this.#busy = false;
    this.#flushTerminal();
  }

  #pulled(before: number): void {
    this.#awaiting = false;
    if (this.#emitted !== before) this.#again = true;
    if (!this.#busy && this.#state === 'active' && this.#demand > 0) this.#drive();
  }

  #terminate(terminal: { readonly error: unknown } | null): void {
    if (this.#state === 'done' || this.#terminal !== undefined) return; // §1.7
    this.#terminal = terminal;
    this.#source = undefined; // the source ended the stream itself: no cancel (§1.6)
    this.#flushTerminal();
  }

  /** Deliver a pending terminal signal unless a signal is on the stack (then its return delivers it). True when the stream is over. */
  #flushTerminal(): boolean {
    const t = this.#terminal;
    if (t === undefined) return this.#state === 'done';
    if (this.#signalling) return true;
    const sub = this.#sub;
    this.#end();
    if (sub === undefined) return true;
    try {
      if (t === null) sub.onComplete();
      else sub.onError(t.error);
    } catch (err) {
      reportThrow(err, t === null ? 'onComplete' : 'onError');
    }
    return true;
  }

  /** A rule broken by the subscriber or the source: cancel the source, then tell the subscriber. */
  #fail(error: StreamRuleError): void {
    if (this.#state === 'done' || this.#terminal !== undefined) return;
    const source = this.#source;
    this.#source = undefined;
    this.#terminal = { error };
    this.#reason = error;
    this.#cancelSource(source);
    this.#flushTerminal();
  }

  /** §2.13: the subscription counts as cancelled; the subscriber learns why through onError, once. */
  #subscriberThrew(err: unknown, method: string): void {
    const sub = this.#sub;
    const source = this.#source;
    this.#source = undefined;
    const error = new StreamRuleError('2.13', `the subscriber's ${method} threw; its subscription was cancelled`, { cause: err });
    this.#reason = error;
    this.#end();
    this.#cancelSource(source);
    if (sub === undefined) return;
    try {
      sub.onError(error);
    } catch (again) {
      reportThrow(again, 'onError');
    }
  }

  #end(): void {
    this.#state = 'done';
    this.#terminal = undefined;
    this.#sub = undefined; // §3.13: drop the reference
    this.#demand = 0;
    this.#reentrant = undefined;
    if (this.#abort !== undefined && !this.#abort.signal.aborted) this.#abort.abort(this.#reason);
  }

  #cancelSource(source: Source<T> | undefined): void {
    if (source?.cancel === undefined) return;
    try {
      source.cancel(this.#reason);
    } catch (err) {
      reportThrow(err, 'source cancel');
    }
  }
}

/** The reason of a plain `cancel()`: what an AbortSignal's `abort()` gives, so a WHATWG producer recognises it. */
function cancelled(): DOMException {
  return new DOMException('the subscriber cancelled its subscription', 'AbortError');
}

/** A subscriber's onError/onComplete (or a source's cancel) threw: nobody is left to tell but the process. */
export function reportThrow(err: unknown, where: string): void {
  process.emitWarning(`sluice/streams: ${where} threw: ${err instanceof Error ? err.message : String(err)}`, { code: 'SLUICE_SUBSCRIBER_ERROR' });
}
