/** The gateway's state as JSON-safe data: every route, policy and gate (`/status`, `gateway.status()`). */
import type { GateStats } from '../core/types.js';
import type { AdmissionFailureStatus } from './admission-failures.js';
import type { BadRequestCounts } from './bad-requests.js';
import type { FaultSnapshot } from './fault-injection.js';
import type { MemoryBudget } from './memory-budget.js';
import type { PolicyRollout } from './policy-mode.js';
import type { RefusalPacer } from './refusal-pacer.js';
import type { ReloadStatus } from './reload-record.js';
import type { GatewayCounters, HandlerState } from './request-handler.js';
import type { StoreStatus } from './store-share.js';

export interface RouteStatus {
  readonly name: string;
  readonly path: string;
  readonly methods: readonly string[] | undefined;
  readonly upstream: string;
  readonly policy: string | undefined;
  /** Injected faults and how many were injected; absent when the route has none. */
  readonly fault?: FaultSnapshot;
  /**
   * Requests answered 500 admission_failed (a store key of another type: reason
   * `store_wrongtype`), `failing` while one failed in the last 10 s, with the last error.
   */
  readonly admissionFailures: AdmissionFailureStatus;
}

export interface PolicyStatus {
  readonly name: string;
  readonly key: string;
  /** Smoothed service time, ms (tracked with a concurrency queue). */
  readonly serviceMs: number;
  readonly refusingAll: boolean;
  /** Enforce, shadow or canary; shadow refusals (would have refused, by reason); canary bypasses. */
  readonly rollout: ReturnType<PolicyRollout['snapshot']>;
  readonly gates: readonly GateStats[];
}

export interface MemoryUse {
  readonly used: number;
  readonly peak: number;
  readonly capacity: number;
}

export interface GatewayStatus {
  readonly state: 'serving' | 'draining';
  readonly uptimeMs: number;
  /** Requests waiting for admission now, across all routes. */
  readonly queued: number;
  readonly counters: Readonly<GatewayCounters>;
  /** Requests refused for what they are (malformed, a path with no canonical form, not ours to proxy), by reason. */
  readonly badRequests: BadRequestCounts;
  /**
   * Refused keep-alive connections not being read now (server.pauseRefused), pauses so far, and
   * whether pausing is engaged now (the event loop saturated: server.pauseRefusedLoad). Of the
   * pauses: `repaused` of a connection paused before; `woken` ended early (a slot freed),
   * `ranOut` by their timer; `unpaced`: refusals while pausing was not engaged.
   */
  readonly paused: {
    readonly now: number;
    readonly total: number;
    readonly repaused: number;
    readonly woken: number;
    readonly ranOut: number;
    readonly unpaced: number;
    readonly engaged: boolean;
  };
  /**
   * Requests parsed and waiting behind another on their connection now, all connections together
   * (at most MAX_WAITING), and connections whose reads' rest is held unparsed because 16 wait on
   * them (pipeline-limit.ts, pipeline-feed.ts).
   */
  readonly pipeline: { readonly waiting: number; readonly holding: number };
  /** Client connections served now (at most server.maxConnections), and connections over it answered 503 and not closed yet. */
  readonly connections: { readonly open: number; readonly refusing: number };
  /** Bytes held for clients now, and at most so far: request bodies read before admission, response bytes ahead of slow readers. */
  readonly memory: { readonly bodies: MemoryUse; readonly responses: MemoryUse };
  readonly routes: readonly RouteStatus[];
  readonly policies: readonly PolicyStatus[];
  readonly upstreams: readonly { readonly name: string; readonly host: string; readonly sockets: number; readonly freeSockets: number; readonly pending: number }[];
  /** The shared store (`store:`), when configured. */
  readonly store?: StoreStatus;
  /** Reloads applied and rejected, the last one's outcome and time, the last rejection's error (reload-record.ts). */
  readonly reload?: ReloadStatus;
}

export function gatewayStatus(state: HandlerState, connections: { readonly open: number; readonly refusing: number }, startedAt: number): GatewayStatus {
  const t = state.table;
  return {
    state: state.draining ? 'draining' : 'serving',
    uptimeMs: Date.now() - startedAt,
    queued: state.queued,
    counters: { ...state.counters },
    badRequests: state.badRequests.snapshot(),
    paused: pacerStatus(state.pacer),
    pipeline: { waiting: state.pipeline?.waiting ?? 0, holding: state.pipeline?.holding ?? 0 },
    connections: { open: connections.open, refusing: connections.refusing },
    memory: { bodies: use(state.bodyMemory), responses: use(state.responseMemory) },
    routes: t.routes.map((r) => ({
      name: r.config.name,
      path: r.config.path,
      methods: r.config.methods === undefined ? undefined : [...r.config.methods],
      upstream: r.upstream.config.name,
      policy: r.policy?.name,
      ...(r.fault === undefined ? {} : { fault: r.fault.snapshot() }),
      admissionFailures: state.admissionFailures.status(r.config.name),
    })),
    policies: [...t.policies.values()].map((p) => ({ name: p.name, key: p.key, serviceMs: p.admission.serviceMs, refusingAll: p.refusingAll, rollout: p.rollout.snapshot(), gates: p.stats() })),
    upstreams: [...t.upstreams.values()].map((u) => ({
      name: u.config.name,
      host: u.config.host,
      sockets: u.pool.stats.connected + u.headPool.stats.connected,
      freeSockets: u.pool.stats.free + u.headPool.stats.free,
      pending: u.pool.stats.pending + u.headPool.stats.pending,
    })),
  };
}

function pacerStatus(p: RefusalPacer): GatewayStatus['paused'] {
  return { now: p.paused, total: p.total, repaused: p.repaused, woken: p.woken, ranOut: p.ranOut, unpaced: p.unpaced, engaged: p.engaged };
}

function use(b: MemoryBudget): MemoryUse {
  return { used: b.used, peak: b.peak, capacity: b.capacity };
}
