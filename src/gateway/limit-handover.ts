/**
 * One concurrency limit across a reload that changes a policy. A policy whose settings are
 * unchanged keeps its gates (route-table.ts); one whose settings changed is built anew, and
 * its old concurrency gate hands its place to the new one (ConcurrencyGate.handOver): what
 * the old gate admitted counts against the new limit until it is released, and the requests
 * queued there are served, queued or refused by the new gate as newcomers would be. Without
 * it the old gate went on serving its queue at the old limit beside the new gate — in flight
 * at the upstream up to both limits, a lowered limit in force only once the old queue drained,
 * and neither in /status.
 */
import type { PolicyInstance } from './policy-instance.js';
import type { RouteTable } from './route-table.js';

/**
 * Each policy a reload retired, and the policy that takes its place: the new policy of the
 * route it served (same route name), else the new policy of its name. A policy no route or
 * name carries over (its routes removed, renamed) has none: its gate serves on alone.
 */
export function successors(old: RouteTable, table: RouteTable, retired: readonly PolicyInstance[]): Map<PolicyInstance, PolicyInstance> {
  const gone = new Set(retired);
  const out = new Map<PolicyInstance, PolicyInstance>();
  const routes = new Map(table.routes.map((r) => [r.config.name, r]));
  for (const r of old.routes) {
    const to = routes.get(r.config.name)?.policy;
    if (r.policy !== undefined && gone.has(r.policy) && !out.has(r.policy) && to !== undefined) out.set(r.policy, to);
  }
  const byName = new Map([...table.policies.values()].map((p) => [p.name, p]));
  for (const p of retired) {
    const to = byName.get(p.name);
    if (!out.has(p) && to !== undefined) out.set(p, to);
  }
  return out;
}

/**
 * Hand every retired policy's concurrency gate to its successor's (and tell `handedTo`: the pacer's
 * paused connections follow, refusal-pacer.ts rekey); returns the policies that did.
 */
export function handOverLimits(old: RouteTable, table: RouteTable, retired: readonly PolicyInstance[], handedTo?: (from: object, to: object) => void): Set<PolicyInstance> {
  const handed = new Set<PolicyInstance>();
  for (const [from, to] of successors(old, table, retired)) {
    const a = from.admission.concurrency;
    const b = to.admission.concurrency;
    if (a === undefined || b === undefined) continue;
    a.handOver(b);
    handedTo?.(a, b);
    handed.add(from);
  }
  return handed;
}
