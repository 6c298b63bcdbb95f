/**
 * One view of several workers: their `/status` documents summed into one, and their
 * Prometheus texts merged with a `worker` label on every sample. Workers run the same
 * config, so their routes, policies and gates line up by position.
 */
import type { GroupSample } from '../dashboard/group-sampler.js';
import type { GatewayStatus } from './status.js';

/** Fields that are not counts: the largest (times), the mean (smoothed times), or any (flags). */
const LARGEST = new Set(['uptimeMs', 'windowMs', 'resetMs']);
const MEAN = new Set(['serviceMs', 'latencyMs', 'rttMs']);

function merge(values: readonly unknown[], field: string): unknown {
  const first = values[0];
  if (typeof first === 'number') {
    const nums = values.filter((v): v is number => typeof v === 'number');
    if (LARGEST.has(field)) return Math.max(...nums);
    if (MEAN.has(field)) return nums.reduce((a, b) => a + b, 0) / nums.length;
    return nums.reduce((a, b) => a + b, 0);
  }
  if (typeof first === 'boolean') return values.some((v) => v === true);
  if (Array.isArray(first)) {
    return first.map((_x, i) => merge(values.map((v) => (Array.isArray(v) ? (v as unknown[])[i] : undefined)).filter((v) => v !== undefined), field));
  }
  if (first !== null && typeof first === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first)) out[k] = merge(values.map((v) => (v as Record<string, unknown> | null)?.[k]).filter((v) => v !== undefined), k);
    return out;
  }
  return first;
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
 * limit), and a rate gate's bucket is the same in every worker. An adaptive limit is each
 * worker's own share, and stays summed.
 */
export function gatewayLimits(merged: GatewayStatus, first: GatewayStatus, leases: Readonly<Record<string, { limit: number }>>): GatewayStatus {
  const policies = merged.policies.map((p, i) => ({
    ...p,
    gates: p.gates.map((g, j) => {
      const lease = g.kind === 'concurrency' ? leases[`${p.key}/concurrency`] : undefined;
      if (lease !== undefined) return { ...g, limit: lease.limit };
      if (g.tokens !== undefined) return { ...g, limit: first.policies[i]?.gates[j]?.limit ?? g.limit };
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

/**
 * Prometheus text expositions of several workers as one: each `# HELP`/`# TYPE` once, every
 * sample labelled `worker="<i>"` (sum them with `sum without (worker)`).
 */
export function mergePrometheus(texts: readonly (string | undefined)[]): string {
  const head = new Map<string, string[]>();
  const samples = new Map<string, string[]>();
  texts.forEach((text, i) => {
    if (text === undefined) return;
    let family = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta !== null) {
        family = meta[2]!;
        if (!head.has(family)) head.set(family, []);
        const h = head.get(family)!;
        if (h.length < 2 && !h.some((l) => l.startsWith(`# ${meta[1]!} `))) h.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      const labelled = brace >= 0 && brace < space ? `${line.slice(0, brace + 1)}worker="${i}",${line.slice(brace + 1)}`.replace(',}', '}') : `${line.slice(0, space)}{worker="${i}"}${line.slice(space)}`;
      if (!samples.has(family)) samples.set(family, []);
      samples.get(family)!.push(labelled);
    }
  });
  const out: string[] = [];
  for (const [family, lines] of head) out.push(...lines, ...(samples.get(family) ?? []));
  for (const [family, lines] of samples) if (!head.has(family)) out.push(...lines);
  return `${out.join('\n')}\n`;
}
