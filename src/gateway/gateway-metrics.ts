/**
 * The gateway's own series beside sluice/prometheus's gate metrics: what rollouts and
 * rehearsals did. Counters read at scrape time from the live route table (a counter set to
 * the cumulative count). A reload builds every route's fault injector again, and a policy
 * whose config changed: what those counted is carried (`replaced`), so a series goes on
 * from where it was rather than back to 0.
 *   sluice_shadow_refusals_total{policy,reason}  requests a shadow policy would have refused
 *   sluice_canary_bypassed_total{policy}         requests of tenants outside a canary
 *   sluice_faults_injected_total{route,fault}    delays and aborts injected (route `fault`)
 *   sluice_bad_requests_total{reason}            requests refused for what they are (bad-requests.ts)
 *   sluice_store_unavailable_total               requests refused 503 because the store (Redis) was away and its mode is closed
 *   sluice_upstream_failures_total{reason}       upstream failures: upstream_unreachable, upstream_timeout, upstream_invalid_response
 *   sluice_upstream_resends_total                requests sent to the upstream again: their stale kept-alive connection closed under them
 *   sluice_connections_over_limit_total{outcome} connections over server.maxConnections: refused (answered 503) or dropped (closed at accept)
 *   sluice_dashboard_pages_total{outcome}        /dashboard live pages dropped for not reading, or refused 503 over the cap
 *   sluice_admission_failures_total{route,reason} requests answered 500 admission_failed (reason store_wrongtype: a store key of another type)
 *   sluice_gate_info{gate,policy,mode}           1 per gate of the live route table: its policy and the policy's mode
 *   sluice_requests_waiting{policy}              requests waiting for admission now under a policy (0 for a live policy none waits under)
 *   sluice_gateway_requests_waiting              requests waiting for admission now, every route (what server.maxQueued caps)
 * With workers the primary serves the last two summed over the workers that answered (prometheus-merge.ts SUMMED_GAUGES).
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Dashboard } from '../dashboard/dashboard.js';
import type { HandlerState } from './request-handler.js';
import type { RouteTable } from './route-table.js';
import { SUMMED_GAUGES } from './prometheus-merge.js';

export const GATEWAY_METRIC_NAMES = ['sluice_shadow_refusals_total', 'sluice_canary_bypassed_total', 'sluice_faults_injected_total', 'sluice_bad_requests_total', 'sluice_store_unavailable_total', 'sluice_upstream_failures_total', 'sluice_upstream_resends_total', 'sluice_connections_over_limit_total', 'sluice_connections_idle_closed_total', 'sluice_dashboard_pages_total', 'sluice_admission_failures_total', 'sluice_gate_info', ...SUMMED_GAUGES] as const;

type Labels = Record<string, string>;

/** Counts of policies and routes a reload replaced, by series: added to the live ones at every scrape. */
class Carried {
  readonly #series = new Map<string, { labels: Labels; n: number }>();
  add(labels: Labels, n: number): void {
    if (n === 0) return;
    const key = JSON.stringify(labels);
    const e = this.#series.get(key);
    if (e === undefined) this.#series.set(key, { labels, n });
    else e.n += n;
  }
  /** Into a counter that collect() just reset. */
  into(c: Counter): void {
    for (const e of this.#series.values()) c.inc(e.labels, e.n);
  }
}

/**
 * Register the gateway's series. Returns `replaced(old, next)`, for the gateway to call when a
 * reload swapped `old` for `next`: what `old`'s replaced policies and routes counted is kept.
 */
export function registerGatewayMetrics(registry: Registry, state: HandlerState, dashboard?: Dashboard): (old: RouteTable, next: RouteTable) => void {
  const registers = [registry];
  const shadow = new Carried();
  const canary = new Carried();
  const faults = new Carried();
  new Counter({
    name: 'sluice_shadow_refusals_total',
    help: 'Requests a policy in shadow mode would have refused, by reason (they were forwarded).',
    labelNames: ['policy', 'reason'],
    registers,
    collect() {
      this.reset();
      shadow.into(this);
      for (const p of state.table.policies.values()) for (const [reason, n] of p.rollout.shadowRefusals) this.inc({ policy: p.name, reason }, n);
    },
  });
  new Counter({
    name: 'sluice_canary_bypassed_total',
    help: 'Requests of tenants outside a canary policy, forwarded without it.',
    labelNames: ['policy'],
    registers,
    collect() {
      this.reset();
      canary.into(this);
      for (const p of state.table.policies.values()) if (p.rollout.mode === 'canary') this.inc({ policy: p.name }, p.rollout.bypassed);
    },
  });
  new Counter({
    name: 'sluice_faults_injected_total',
    help: 'Faults injected on a route (fault.delay, fault.abort).',
    labelNames: ['route', 'fault'],
    registers,
    collect() {
      this.reset();
      faults.into(this);
      for (const r of state.table.routes) {
        if (r.fault === undefined) continue;
        this.inc({ route: r.config.name, fault: 'delay' }, r.fault.delayed);
        this.inc({ route: r.config.name, fault: 'abort' }, r.fault.aborted);
      }
    },
  });
  new Counter({
    name: 'sluice_bad_requests_total',
    help: 'Requests refused for what they are (malformed, a path with no canonical form, not ours to proxy), by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(state.badRequests.snapshot())) this.inc({ reason }, n);
    },
  });
  // An outage of the store is not the clients' doing: told apart from their refusals.
  new Counter({
    name: 'sluice_store_unavailable_total',
    help: 'Requests refused 503 store_unavailable: the store (Redis) could not be reached and store.onStoreError is closed.',
    registers,
    collect() {
      this.reset();
      this.inc(state.counters.storeUnavailable);
    },
  });
  // Kept apart by reason: a broken upstream (invalid_response) is not a down one (unreachable).
  new Counter({
    name: 'sluice_upstream_failures_total',
    help: 'Upstream failures, by the reason the client was given (502 upstream_unreachable, 504 upstream_timeout, 502 upstream_invalid_response); responses cut mid-body count too.',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      const c = state.counters;
      this.inc({ reason: 'upstream_unreachable' }, c.upstreamErrors);
      this.inc({ reason: 'upstream_timeout' }, c.upstreamTimeouts);
      this.inc({ reason: 'upstream_invalid_response' }, c.upstreamInvalid);
    },
  });
  // Each is a request the upstream may have seen twice: a query of death sent again is a second crash.
  new Counter({
    name: 'sluice_upstream_resends_total',
    help: 'Requests sent to the upstream a second time: idempotent ones whose kept-alive connection, idle 1 s or more, closed under them before any answer.',
    registers,
    collect() {
      this.reset();
      this.inc(state.counters.upstreamResends);
    },
  });
  new Counter({
    name: 'sluice_connections_over_limit_total',
    help: 'Connections over a limit: over server.maxConnections refused (answered 503 connections_full) or dropped (closed at accept, with as many refused ones lingering as allowed); pipeline_cut: closed for pipelining 16 or more requests deep while 20,000 wait gateway-wide.',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      this.inc({ outcome: 'refused' }, state.counters.connectionsRefused);
      this.inc({ outcome: 'dropped' }, state.counters.connectionsDropped);
      this.inc({ outcome: 'pipeline_cut' }, state.counters.pipelineCut);
    },
  });
  // Apart from bad requests: nothing was requested (a preconnect, a scanner, an idle flood).
  new Counter({
    name: 'sluice_connections_idle_closed_total',
    help: 'Connections closed (408) at server.headersTimeout without having sent a byte: a browser preconnect, a scanner, an idle flood. Not counted in sluice_bad_requests_total.',
    registers,
    collect() {
      this.reset();
      this.inc(state.counters.idleConnectionsClosed);
    },
  });
  // Upstream work saved: requests whose client reset before they went upstream (a FIN is a client still reading).
  new Counter({
    name: 'sluice_requests_client_gone_total',
    help: 'Requests never forwarded because their client reset the connection first: queue, while they waited for admission; before_forward, while their body was read or before the gateway read them (an overload\'s timed-out clients).',
    labelNames: ['stage'],
    registers,
    collect() {
      this.reset();
      this.inc({ stage: 'queue' }, state.counters.leftQueue);
      this.inc({ stage: 'before_forward' }, state.counters.clientGone);
    },
  });
  // A page that stops reading is dropped, not buffered for: how often that happens, and how
  // often the cap of open pages turned one away, is seen here.
  new Counter({
    name: 'sluice_dashboard_pages_total',
    help: 'Live /dashboard pages ended by the gateway: dropped (the page stopped reading; its socket stayed full) or refused (503, more pages open than the cap).',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      const pages = dashboard?.pages ?? { dropped: 0, refused: 0 };
      this.inc({ outcome: 'dropped' }, pages.dropped);
      this.inc({ outcome: 'refused' }, pages.refused);
    },
  });
  // Not an outage (onStoreError does not cover it) and not the clients' doing: every request of
  // the route fails until someone removes the key. Counted by route name: kept across reloads.
  new Counter({
    name: 'sluice_admission_failures_total',
    help: 'Requests answered 500 admission_failed, by route and reason (store_wrongtype: a key under the store keyPrefix holds another type, written by another program).',
    labelNames: ['route', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const f of state.admissionFailures.series()) this.inc({ route: f.route, reason: f.reason }, f.count);
    },
  });
  // A shadow policy's gates count what they would refuse in sluice_rejections_total, as any gate
  // counts its decisions, though every such request was forwarded: the rules in docs/ops leave
  // out the rejections of the gates listed here with mode="shadow" (`unless on (job, instance, gate)`).
  new Gauge({
    name: 'sluice_gate_info',
    help: "One series per gate, value 1: the policy it belongs to and that policy's mode (enforce; shadow: its rejections were not given; canary).",
    labelNames: ['gate', 'policy', 'mode'],
    registers,
    collect() {
      this.reset();
      for (const p of state.table.policies.values()) for (const g of p.gates()) this.set({ gate: g.name, policy: p.name, mode: p.rollout.mode }, 1);
    },
  });
  // Who waits, where: a queue's depth per gate is sluice_queue_depth; this is per policy, a request asking for its slot after its body included.
  new Gauge({
    name: 'sluice_requests_waiting',
    help: 'Requests waiting for admission now, by policy (0 for a live policy none waits under); with workers, summed over them.',
    labelNames: ['policy'],
    registers,
    collect() {
      this.reset();
      for (const p of state.table.policies.values()) this.set({ policy: p.name }, 0);
      for (const [policy, n] of state.waiting) this.set({ policy }, n);
    },
  });
  new Gauge({
    name: 'sluice_gateway_requests_waiting',
    help: 'Requests waiting for admission now on every route: what server.maxQueued caps (per process); with workers, summed over them.',
    registers,
    collect() {
      this.set(state.queued);
    },
  });
  return (old, next) => {
    for (const p of next.retiredFrom(old).policies) {
      for (const [reason, n] of p.rollout.shadowRefusals) shadow.add({ policy: p.name, reason }, n);
      if (p.rollout.mode === 'canary') canary.add({ policy: p.name }, p.rollout.bypassed);
    }
    // Every route gets a new fault injector (route-table.ts).
    for (const r of old.routes) {
      if (r.fault === undefined) continue;
      faults.add({ route: r.config.name, fault: 'delay' }, r.fault.delayed);
      faults.add({ route: r.config.name, fault: 'abort' }, r.fault.aborted);
    }
  };
}
