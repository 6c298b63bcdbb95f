/**
 * One view of several workers: their `/status` documents summed into one (their Prometheus
 * texts: prometheus-merge.ts). Workers run the same
 * config, but not at the same instant during a reload: lists of named things (routes,
 * policies, gates, upstreams) are lined up by their key or name (the n-th of a name with the
 * n-th), not by position — by position, a worker still on the old table had its policies'
 * counts added to other policies of a reloaded one (hostile-10).
 */
import type { GroupSample } from '../dashboard/group-sampler.js';
import type { GatewayStatus } from './status.js';

/**
 * Fields that are not counts: the largest (times; a breaker's time until it may close), the
 * mean (smoothed times), any (flags), or the first (settings every worker has the same of: a
 * route's injected fault, a rollout's canary percent — summed, two workers showed `delayMs: 20`
 * and `abortStatus: 1006` for a 10 ms delay and a 503, and `percent: 20` for a 10% canary, hostile-12).
 */
const LARGEST = new Set(['uptimeMs', 'windowMs', 'resetMs', 'retryAfterMs']);
const MEAN = new Set(['serviceMs', 'latencyMs', 'rttMs']);
const SETTING = new Set(['percent', 'delayMs', 'delayPercent', 'abortStatus', 'abortPercent']);
/**
 * A breaker's `state` is the worst of the workers' (each breaker is per worker): taken from
 * worker 0 alone, a breaker open in worker 1 read `closed` (hostile pass). Each worker's own
 * state is in the primary's `workers[i].status`.
 */
const BREAKER_RANK: Readonly<Record<string, number>> = { disabled: 0, closed: 1, 'half-open': 2, open: 3, 'forced-open': 4 };

function worst(values: readonly unknown[]): unknown {
  let out = values[0];
  for (const v of values) if (typeof v === 'string' && (BREAKER_RANK[v] ?? -1) > (BREAKER_RANK[out as string] ?? -1)) out = v;
  return out;
}

function merge(values: readonly unknown[], field: string): unknown {
  const first = values[0];
  if (typeof first === 'number') {
    const nums = values.filter((v): v is number => typeof v === 'number');
    if (SETTING.has(field)) return first;
    if (LARGEST.has(field)) return Math.max(...nums);
    if (MEAN.has(field)) return nums.reduce((a, b) => a + b, 0) / nums.length;
    return nums.reduce((a, b) => a + b, 0);
  }
  if (typeof first === 'boolean') return values.some((v) => v === true);
  if (typeof first === 'string' && field === 'state') return worst(values);
  if (Array.isArray(first)) {
    if (first.length > 0 && idOf(first[0]) !== undefined) return mergeById(values.filter(Array.isArray) as unknown[][], field);
    return first.map((_x, i) => merge(values.map((v) => (Array.isArray(v) ? (v as unknown[])[i] : undefined)).filter((v) => v !== undefined), field));
  }
  if (first !== null && typeof first === 'object') {
    const out: Record<string, unknown> = {};
    const objects = latestFirst(values);
    // Every worker's keys: an optional field (a route's last admission error) one worker has and the first has not is kept.
    for (const k of new Set(objects.flatMap((v) => (v !== null && typeof v === 'object' ? Object.keys(v) : [])))) out[k] = merge(objects.map((v) => (v as Record<string, unknown> | null)?.[k]).filter((v) => v !== undefined), k);
    return out;
  }
  return first;
}

/**
 * Objects that tell of a last event (`lastAt`, ISO 8601: a route's last failed admission) in
 * order of it, latest first, those without one after: their strings (`lastError`, `reason`,
 * `lastAt`) are then the latest's. In worker order, /status showed worker 0's error of an hour
 * ago beside worker 1's failing now.
 */
function latestFirst(values: readonly unknown[]): readonly unknown[] {
  const at = (v: unknown): number => {
    const t = v !== null && typeof v === 'object' ? (v as { lastAt?: unknown }).lastAt : undefined;
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    return Number.isNaN(ms) ? -Infinity : ms;
  };
  if (!values.some((v) => at(v) !== -Infinity)) return values;
  return values.map((v, i) => ({ v, i, t: at(v) })).sort((a, b) => b.t - a.t || a.i - b.i).map((e) => e.v);
}

/** What names an entry of a list: its `key` (a policy's), else its `name`. */
function idOf(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as { key?: unknown; name?: unknown };
  return typeof o.key === 'string' ? o.key : typeof o.name === 'string' ? o.name : undefined;
}

/** Lists merged entry by entry of the same id (the n-th of an id with the n-th), in order of first appearance. */
function mergeById(lists: readonly unknown[][], field: string): unknown[] {
  const groups = new Map<string, unknown[]>();
  for (const list of lists) {
    const seen = new Map<string, number>();
    for (const v of list) {
      const id = idOf(v) ?? '';
      const nth = seen.get(id) ?? 0;
      seen.set(id, nth + 1);
      const k = `${nth}\u0000${id}`;
      const group = groups.get(k);
      if (group === undefined) groups.set(k, [v]);
      else group.push(v);
    }
  }
  return [...groups.values()].map((g) => merge(g, field));
}

/** The workers' statuses as one: counts summed, `state` draining if any worker drains. */
export function mergeStatuses(statuses: readonly GatewayStatus[]): GatewayStatus | undefined {
  if (statuses.length === 0) return undefined;
  const merged = merge(statuses, '') as GatewayStatus;
  return { ...merged, state: statuses.some((s) => s.state === 'draining') ? 'draining' : 'serving' };
}

/**
 * The gates' `limit` in a merged status is the gateway's, not a sum of the workers' own: a
 * concurrency limit leased across workers is the shared limit (a worker's local limit is the
 * slots it holds — or 1, as ballast, while it holds none, so the sum could read one above the
 * limit), and a rate gate's bucket (a keyed one's per tenant) is the same in every worker. An adaptive limit is each
 * worker's own share, and stays summed.
 */
export function gatewayLimits(merged: GatewayStatus, first: GatewayStatus, leases: Readonly<Record<string, { limit: number }>>): GatewayStatus {
  const policies = merged.policies.map((p) => ({
    ...p,
    gates: p.gates.map((g, j) => {
      const lease = g.kind === 'concurrency' ? leases[`${p.key}/concurrency`] : undefined;
      if (lease !== undefined) return { ...g, limit: lease.limit };
      // A keyed limiter's `limit` is its default bucket's capacity, one for the whole gateway too (summed: 10 for a burst of 5 on two workers, hostile-12).
      if (g.tokens !== undefined || g.kind === 'keyed-rate') return { ...g, limit: first.policies.find((q) => q.key === p.key)?.gates[j]?.limit ?? g.limit };
      return g;
    }),
  }));
  return { ...merged, policies };
}

/**
 * The same for the dashboard's merged groups (one per policy, by name): a group whose
 * concurrency slots are leased across workers shows the shared limit, not the sum of the
 * workers' local limits (one of which may be a ballast slot).
 */
export function gatewayGroupLimits(groups: readonly GroupSample[], first: GatewayStatus | undefined, leases: Readonly<Record<string, { limit: number }>>): GroupSample[] {
  const leased = new Map<string, number>();
  for (const p of first?.policies ?? []) {
    const lease = leases[`${p.key}/concurrency`];
    if (lease !== undefined) leased.set(p.name, lease.limit);
  }
  return groups.map((g) => {
    const limit = leased.get(g.name);
    return limit === undefined || g.limit === null ? g : { ...g, limit };
  });
}
