/**
 * One policy's live gates: the HTTP admission (sluice/http), which builds and lists every
 * gate it asks (`/status` and `/metrics` read them there, quota limits included), and the
 * parts the gateway also reads — breaker state, pressure monitor. Kept across reloads while
 * its key (a canonical hash of the policy) is unchanged, so limiter state survives.
 */
import type { IncomingMessage } from 'node:http';
import type { CircuitBreaker } from '../breaker/circuit-breaker.js';
import type { Clock } from '../core/clock.js';
import type { SlotReclaimer } from '../concurrency/slot-reclaimer.js';
import type { PolicyConfig } from './config-types.js';
import type { Gate, GateStats } from '../core/types.js';
import { HttpAdmission } from '../http/admission.js';
import type { PressureMonitor } from '../pressure/pressure-monitor.js';
import type { ResolvedConfig, ResolvedPolicy } from './resolved-config.js';
import { policyParts } from './policy-options.js';
import { RateStores } from './rate-stores.js';
import type { RateStore } from '../rate/store.js';
import { rateStoreFactory } from './worker-share.js';
import type { WorkerShare } from './worker-share.js';
import { PolicyRollout } from './policy-mode.js';

export class PolicyInstance {
  readonly name: string;
  readonly key: string;
  /** What the policy says (named under `policies:` or written inline on a route). */
  readonly config: PolicyConfig;
  readonly admission: HttpAdmission<IncomingMessage>;
  readonly breaker: CircuitBreaker | undefined;
  readonly monitor: PressureMonitor | undefined;
  /** Enforce, shadow or canary, and what shadow mode would have refused. */
  readonly rollout: PolicyRollout;
  /** The headers this policy tells requests apart by (tenant, criticality), lowercased: they must be unambiguous. */
  readonly identityHeaders: readonly string[];
  /** Its rate limiters' buckets, by limiter identity. */
  readonly rateStores: RateStores;

  /** `reuse`: the store a limiter of the same identity had in the previous route table (rate-stores.ts); `reclaimer`: what its concurrency gate asks for room (slow-readers.ts). */
  constructor(p: ResolvedPolicy, config: ResolvedConfig, clock: Clock | undefined, share?: WorkerShare, reuse: (identity: string) => RateStore | undefined = () => undefined, reclaimer?: SlotReclaimer) {
    this.name = p.name;
    this.key = p.key;
    this.config = p.config;
    const stores = new RateStores(share && rateStoreFactory(share), reuse);
    this.rateStores = stores;
    const parts = policyParts(p.config, p.name, { trustProxy: config.trustProxy, proxyHeader: config.proxyHeader, clock, rateStore: (...a) => stores.storeFor(...a), reclaimer });
    this.admission = new HttpAdmission<IncomingMessage>(parts.options);
    this.breaker = parts.breaker;
    this.monitor = parts.monitor;
    this.rollout = new PolicyRollout(p.config);
    const tenant = p.config.tenant;
    this.identityHeaders = [typeof tenant === 'object' ? tenant.header : undefined, p.config.criticalityHeader].flatMap((h) => (h === undefined ? [] : [h.toLowerCase()]));
    this.monitor?.start();
  }

  /** Every gate's stats snapshot, in the order a request meets them. */
  stats(): GateStats[] {
    return this.admission.gates.map((g) => g.stats());
  }

  /** Every gate, for the metrics adapter. */
  gates(): readonly Gate[] {
    return this.admission.gates;
  }

  /** True when this policy refuses everything now: its breaker is open, or pressure is at `reject`. */
  get refusingAll(): boolean {
    return this.breaker?.stats().state === 'open' || this.monitor?.level === 'reject';
  }

  /**
   * Retired by a reload (or at the end of a shutdown, `next` empty): stop sampling pressure, and
   * close the rate stores no policy of `next` took over; requests already admitted still release here.
   */
  retire(next: Iterable<PolicyInstance>): void {
    this.monitor?.stop();
    this.rateStores.closeUnused([...next].map((p) => p.rateStores));
  }

  /** Shutdown: queued requests are refused (503), nothing new is admitted. */
  close(): void {
    this.admission.close();
    this.monitor?.stop();
  }
}
