/**
 * How long a caller that queues at a concurrency gate can expect to wait: what
 * `retryAfterMs` and early refusals say.
 *
 * Service time is measured once, at release: the latency EWMA behind `retryAfterMs` and early
 * refusals is the grant-to-release interval (how long a slot is held), and so is the
 * algorithm's RTT unless the owner gave its own.
 *
 * Early refusal (ConcurrencyGate's `refuseEarly`): a caller that would queue is refused at once,
 * as 'queue_timeout' with the expected wait as `retryAfterMs`, when that wait exceeds 80% of its
 * wait budget, rather than after waiting in vain (before the first release, the age of the
 * permits in flight is its service time's lower bound).
 *
 * Two smoothed estimates: the service time, grant to release (one EWMA over every release),
 * and the observed wait per queue position (an EWMA over the waiters served: only callers
 * that wait teach it). The expected wait at queue position k
 * is the larger of service time × k / limit and wait-per-position × k, the second only while
 * its last sample is no older than the caller's wait budget.
 *
 * A refusal's `retryAfterMs` also counts the slots' residual time. A caller that finds every
 * slot taken waits for a permit already under way, and a permit under way is more likely a
 * long one (renewal theory: the mean residual of a busy slot is E[S²] / 2·E[S], not E[S]).
 * With fast and slow work behind one gate (a policy over a 10 ms path and a 2.5 s one) the
 * mean service time is the fast work's: Retry-After said 1 s while every slot was held 2.5 s
 * (hostile pass). The residual is mostly the slow work's. retryAfter is the largest of:
 * service × k / limit, (residual + service × (k − 1)) / limit, and the observed wait per
 * position × k while fresh.
 */
import { Ewma } from '../core/ewma.js';

/** Smoothing of the service-time estimate (EWMA weight of a new sample). */
const LATENCY_ALPHA = 0.1;
/** Smoothing of the observed wait per queue position (EWMA weight of a new sample). */
const WAIT_ALPHA = 0.05;
/**
 * An estimate is a mean: a caller expected to be served just inside its wait budget times
 * out whenever throughput dips. Early refusal queues a caller only when it is expected to be
 * served within this share of its budget; the rest is headroom.
 */
export const EARLY_HEADROOM = 0.8;

export class WaitEstimate {
  readonly #service = new Ewma(LATENCY_ALPHA);
  readonly #perPosition = new Ewma(WAIT_ALPHA);
  /** E[S²] of the service time, same smoothing: the residual of a busy slot. */
  readonly #square = new Ewma(LATENCY_ALPHA);
  /** While no release was measured: when the oldest permit granted since the last release was (all still in flight). */
  #since: number | undefined;
  /**
   * The estimate that took this one's (adopt: a reload's new gate): it learns what this one
   * learns after — the permits still in flight here count against its gate, and their ages are
   * its bound until they come back. Before, a predecessor's permit released after the reload
   * taught the successor nothing: its bound ran from that permit's grant for as long as the
   * successor measured no release of its own, refusing callers for a permit long gone.
   */
  #heir: WaitEstimate | undefined;

  /** The smoothed service time, ms (0 before any release). */
  get serviceMs(): number {
    return this.#service.value;
  }

  /** A permit granted (at its `grantedAt`): the prior's origin while no release was measured (tooLong). */
  granted<P extends { readonly grantedAt: number }>(permit: P): P {
    if (this.#service.count === 0) this.#since ??= permit.grantedAt;
    return permit;
  }

  /** A permit came back without a service-time sample ('ignored', a ballast): the permits granted before it may not all be in flight now. */
  unsampled(): void {
    this.#since = undefined;
    this.#heir?.unsampled();
  }

  /** A permit was released `ms` after its grant. */
  served(ms: number, now: number): void {
    this.#service.add(ms, now);
    this.#square.add(ms * ms, now);
    this.#heir?.served(ms, now);
  }

  /** Mean residual service time of a busy slot, E[S²] / 2·E[S], ms (0 before any release). */
  get residualMs(): number {
    const s = this.#service.value;
    return s > 0 ? this.#square.value / (2 * s) : 0;
  }

  /**
   * Take `from`'s estimates when this one has none (ConcurrencyGate.handOver: a reload's new
   * gate serves the same work; starting blank, it would hold its moved waiters to the prior),
   * and what `from` learns from now on. `from`'s bound (`#since`) holds here: the permits it
   * dates are still in flight and count against this gate, and their release or their return
   * without a sample reaches this estimate (#heir).
   */
  adopt(from: WaitEstimate): void {
    from.#heir = this;
    if (this.#service.count > 0) return;
    this.#since = from.#since;
    this.#service.copyFrom(from.#service);
    this.#square.copyFrom(from.#square);
    this.#perPosition.copyFrom(from.#perPosition);
  }

  /** A waiter at queue position `position` (1 = head) was served after waiting `waitedMs`. */
  waited(waitedMs: number, position: number, now: number): void {
    this.#perPosition.add(waitedMs / position, now);
  }

  /**
   * Expected wait behind `queued` waiters (module comment): the largest of service × k / limit,
   * (residual + service × (k − 1)) / limit and, when sampled within `freshMs` of `now`, the
   * observed wait per position × k (k = queued + 1); whole ms, at least 1.
   */
  retryAfter(queued: number, limit: number, now = 0, freshMs = 0): number {
    const s = this.#service.value;
    const k = queued + 1;
    let ms = Math.max(s * k, this.residualMs + s * queued) / limit;
    const w = this.#perPosition;
    if (w.count > 0 && now - w.sampledAt <= freshMs) ms = Math.max(ms, w.value * k);
    return Math.max(1, Math.ceil(ms));
  }

  /**
   * The wait expected at position `queued + 1` when it exceeds EARLY_HEADROOM of `budgetMs`
   * (whole ms: the early refusal's retry-after), else undefined.
   *
   * Before any release the service time is not known, but it is at least the age of the
   * permits granted since the last release (every one still in flight; the oldest takes at
   * least that long): the estimate takes that lower bound, so a gate whose first permits have
   * been held for long stops queueing callers who could only time out. Before, nothing was refused until the first release: every caller queued
   * (up to maxQueue) behind permits held past any budget, and timed out. A burst that comes
   * with the first grant meets a bound of 0 and queues: nothing is known yet.
   */
  tooLong(queued: number, limit: number, budgetMs: number, now: number): number | undefined {
    if (this.#service.count === 0 && this.#since === undefined) return undefined;
    const service = this.#service.count > 0 ? this.#service.value : now - this.#since!;
    const perSlot = service / limit;
    const w = this.#perPosition;
    const perPosition = w.value > perSlot && now - w.sampledAt <= budgetMs ? w.value : perSlot;
    const expected = perPosition * (queued + 1);
    return expected <= budgetMs * EARLY_HEADROOM ? undefined : Math.ceil(expected);
  }
}
