/**
 * A worker's leases of the shared concurrency limits: one {@link SlotLease} per policy with
 * a fixed concurrency limit (named under `policies:` or written inline on a route), started before its gate serves anyone (at start, and for the
 * new policies of a reload before the swap), retired with its policy. An adaptive limit is
 * not leased: each worker's algorithm adapts its own share (see policy-options.ts).
 */
import { KeyedRateLimiter } from '../rate/keyed.js';
import { LeasedRateStore } from '../shared/leased-rate-store.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { SlotGate, SlotReclaimer } from '../concurrency/slot-reclaimer.js';
import { leaseRoom } from '../shared/lease-room.js';
import { SlotLease } from '../shared/slot-lease.js';
import type { SlotYielder, StoreAway } from '../shared/slot-lease.js';
import type { OnStoreError } from '../redis/options.js';
import type { PolicyInstance } from './policy-instance.js';
import { concurrencyForm } from './policy-options.js';
import type { RouteTable } from './route-table.js';
import type { WorkerShare } from './worker-share.js';

/** Lease upkeep period, ms: how soon a worker's queue brings it slots the others do not use. */
const TICK_MS = 5;

/** The store's name for a policy's concurrency limit: the same in every worker, and for a policy a reload brings back unchanged. */
function leaseName(p: PolicyInstance): string {
  return `${p.key}/concurrency`;
}

/** A policy's rate limiters that lease tokens give them back and stop. */
function closeLeasedRates(p: PolicyInstance): void {
  for (const g of p.gates()) if (g instanceof KeyedRateLimiter && g.store instanceof LeasedRateStore) g.store.close();
}

export class SlotLeases {
  readonly #share: WorkerShare;
  readonly #yielder: SlotYielder | undefined;
  readonly #leases = new Map<PolicyInstance, SlotLease>();
  /** Leases a reload retired whose gate no successor took, by store name, with their gate: a policy restored under that name adopts one still at work. */
  readonly #retired = new Map<string, { readonly lease: SlotLease; readonly gate: ConcurrencyGate }>();
  /**
   * Leases a reload retired that still tick (their work runs, or callers wait in their gate): told
   * of the store's outages as the live ones are. Before, a lease retired while the store was away
   * never heard it was back — it asked nothing and gave nothing back, and the store's renewals
   * kept its slots leased for good.
   */
  readonly #retiring = new Set<SlotLease>();
  readonly #limits = new WeakMap<SlotLease, number>();
  /** The lease of each leased gate, for the gates' reclaimer (leaseRoom). */
  readonly #byGate = new WeakMap<SlotGate, SlotLease>();
  /** Set while the store is away: its failure mode, and its probe period (the Retry-After of a refusal). */
  #away: { readonly onStoreError: OnStoreError; readonly probeMs: number } | undefined;

  /** `yielder`: the slow readers, cut when the primary asks for a request waiting on another worker (slot-lease.ts SlotYielder). */
  constructor(share: WorkerShare, yielder?: SlotYielder) {
    this.#share = share;
    this.#yielder = yielder;
  }

  /** Lease for every policy of `table` that has a fixed concurrency limit and no lease yet. */
  async attach(table: RouteTable): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const p of table.policies.values()) {
      const gate = p.admission.concurrency;
      if (gate === undefined || this.#leases.has(p)) continue;
      // The policy's own config: an inline policy (on a route) is not under table.config.policies.
      const limit = concurrencyForm(p.config.concurrency)?.limit;
      if (typeof limit !== 'number') continue;
      const n = this.#share.workers;
      const name = leaseName(p);
      const lease = new SlotLease(gate, this.#share.store, {
        name,
        limit,
        initial: Math.max(1, Math.floor(limit / n)),
        batch: Math.max(1, Math.ceil(limit / (4 * n))),
        tickMs: TICK_MS,
        onError: (err) => this.#share.onError(`concurrency lease of ${p.name}`, err),
        ...(this.#yielder === undefined ? {} : { yielder: this.#yielder }),
      });
      // The policy a reload removed, back under its name while its work still runs here: one lease of the name, not two (SlotLease.adopt).
      const before = this.#retired.get(name);
      this.#retired.delete(name);
      if (before?.lease.live === true) {
        before.gate.handOver(gate);
        lease.adopt(before.lease);
      }
      this.#leases.set(p, lease);
      this.#limits.set(lease, limit);
      this.#byGate.set(gate, lease);
      starts.push(lease.start());
      // After start() took its ballast (synchronously): from now on the gate follows the failure mode.
      if (this.#away !== undefined) lease.storeAway(this.#awayFor(limit));
    }
    await Promise.all(starts);
  }

  /** The reclaimer for the policies' gates: `inner`'s room, and the room a gate's lease can still take (slot-lease.ts leaseRoom). */
  reclaimer(inner: SlotReclaimer): SlotReclaimer {
    return leaseRoom(inner, (gate) => this.#byGate.get(gate));
  }

  /**
   * The store is away (its failure mode and probe period), or back (`undefined`). Meanwhile
   * every leased gate follows the mode, as the store's rate limits do: 'closed' refuses
   * `store_unavailable` (not `concurrency`: the limit is not full), 'open' admits up to the
   * limit, 'local' up to this gateway's share, ⌊limit / instances⌋ (at least 1), less what the
   * others held above their shares as the store went away (SlotLease.storeAway).
   */
  storeAway(away: { readonly onStoreError: OnStoreError; readonly probeMs: number } | undefined): void {
    this.#away = away;
    this.#pruneRetiring();
    for (const l of [...this.#leases.values(), ...this.#retiring]) l.storeAway(away === undefined ? undefined : this.#awayFor(this.#limits.get(l)!));
  }

  /** Forget the retired leases that stopped (done, or adopted by a policy restored under their name). */
  #pruneRetiring(): void {
    for (const l of this.#retiring) if (!l.live) this.#retiring.delete(l);
  }

  #awayFor(limit: number): StoreAway {
    const a = this.#away!;
    if (a.onStoreError === 'closed') return { refuseMs: a.probeMs };
    if (a.onStoreError === 'open') return { limit };
    const share = Math.max(1, Math.floor(limit / this.#share.workers));
    return { limit: share, others: (this.#share.workers - 1) * share };
  }

  /**
   * Policies a reload retired (those in `handedOver` gave their gate's place to a successor's):
   * their slots go back as their requests end (their tokens: PolicyInstance.retire, unless a
   * successor took their store over).
   */
  retire(policies: readonly PolicyInstance[], handedOver?: ReadonlySet<PolicyInstance>): void {
    for (const [name, r] of this.#retired) if (!r.lease.live) this.#retired.delete(name);
    this.#pruneRetiring();
    for (const p of policies) {
      const lease = this.#leases.get(p);
      const gate = p.admission.concurrency;
      const handed = handedOver?.has(p) === true;
      lease?.retire(handed);
      if (lease?.live === true) this.#retiring.add(lease);
      if (lease !== undefined && gate !== undefined && !handed) this.#retired.set(leaseName(p), { lease, gate });
      this.#leases.delete(p);
    }
  }

  /**
   * Give everything back (the worker stops): the live leases' slots and those of the leases a
   * reload retired that still tick — every timer stops. Before, those went on ticking after it,
   * holding their slots and calling a store the gateway then closed.
   */
  async stop(table: RouteTable): Promise<void> {
    for (const p of table.policies.values()) closeLeasedRates(p);
    const all = new Set([...this.#leases.values(), ...this.#retiring, ...[...this.#retired.values()].map((r) => r.lease)]);
    this.#leases.clear();
    this.#retiring.clear();
    this.#retired.clear();
    await Promise.all([...all].map((l) => l.stop().catch(() => undefined)));
  }

  /** Slots held and fair share, per policy name. */
  stats(): Record<string, { held: number; fairShare: number }> {
    const out: Record<string, { held: number; fairShare: number }> = {};
    for (const [p, l] of this.#leases) out[p.name] = { held: l.held, fairShare: l.fairShare };
    return out;
  }
}
