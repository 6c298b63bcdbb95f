/**
 * The gateway's own series beside sluice/prometheus's gate metrics: what rollouts and
 * rehearsals did. Counters read at scrape time from the live route table (a counter set to
 * the cumulative count; a reload that rebuilds a policy or route starts it again at 0,
 * which Prometheus' rate() reads as a counter reset).
 *   sluice_shadow_refusals_total{policy,reason}  requests a shadow policy would have refused
 *   sluice_canary_bypassed_total{policy}         requests of tenants outside a canary
 *   sluice_faults_injected_total{route,fault}    delays and aborts injected (route `fault`)
 *   sluice_bad_requests_total{reason}            requests refused for what they are (bad-requests.ts)
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { HandlerState } from './request-handler.js';

export const GATEWAY_METRIC_NAMES = ['sluice_shadow_refusals_total', 'sluice_canary_bypassed_total', 'sluice_faults_injected_total', 'sluice_bad_requests_total'] as const;

export function registerGatewayMetrics(registry: Registry, state: HandlerState): void {
  const registers = [registry];
  new Counter({
    name: 'sluice_shadow_refusals_total',
    help: 'Requests a policy in shadow mode would have refused, by reason (they were forwarded).',
    labelNames: ['policy', 'reason'],
    registers,
    collect() {
      this.reset();
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
}
