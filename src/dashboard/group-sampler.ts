/**
 * One dashboard group (a route's policy, or any set of gates a user names): its figures per
 * sample. Counters are read from the gates' stats and turned into rates between samples;
 * waits and latencies come from the gates' events (a bounded reservoir per sample period);
 * refusals per tenant from reject events, in bounded memory (TenantCounts); the top ones leave
 * as they are shown (a stable short hash by default: shownKey), hashed only then, not per refusal.
 */
import { shownKey } from '../core/index.js';
import type { GateEvent, GateListener, GateStats, RejectionReason, TenantKeys } from '../core/index.js';
import type { PressureSnapshot } from '../pressure/index.js';
import { TenantCounts } from './tenant-counts.js';

/** A gate the dashboard reads: its stats, and its events when it has `on`. */
export interface DashboardGate {
  stats(): GateStats;
  on?(listener: GateListener): () => void;
}

export interface DashboardGroup {
  /** Shown as the group's title; unique among groups. */
  readonly name: string;
  /** The gates a request meets, in order: the last one's admissions are the group's. */
  readonly gates: readonly DashboardGate[];
  /** A pressure monitor, for its level and signals. */
  readonly monitor?: { snapshot(): PressureSnapshot } | undefined;
  /** Extra facts shown as badges (mode, canary share, injected faults...), read at each sample. */
  readonly info?: (() => Readonly<Record<string, string | number>>) | undefined;
  /** Would-have-refused counts by reason (a shadow policy), cumulative. */
  readonly shadowRefusals?: (() => ReadonlyMap<string, number>) | undefined;
  /** The gates decide but refuse nobody (a policy in shadow mode): their refusals are not shown as refusals. @default false */
  readonly shadow?: boolean | undefined;
}

export interface GroupSample {
  readonly name: string;
  /** Cumulative, as in /status: the last gate's admissions, every gate's refusals. */
  readonly admitted: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly admittedPerSec: number;
  readonly refusedPerSec: Readonly<Record<string, number>>;
  readonly shadowPerSec: Readonly<Record<string, number>>;
  readonly inFlight: number;
  /** The concurrency limit (adaptive or fixed); null when the group has none. */
  readonly limit: number | null;
  readonly queued: number;
  readonly waitP50Ms: number | null;
  readonly waitP99Ms: number | null;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly breaker: string | null;
  readonly pressure: { readonly level: string; readonly pressure: number; readonly signals: readonly { name: string; level: string; pressure: number }[] } | null;
  readonly topTenants: readonly [string, number][];
  readonly info: Readonly<Record<string, string | number>>;
}

const RESERVOIR = 1024;

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! * 100) / 100;
}

/** Up to RESERVOIR values of one period, a uniform sample of them (Algorithm R). */
class Reservoir {
  values: number[] = [];
  seen = 0;
  add(v: number): void {
    this.seen++;
    if (this.values.length < RESERVOIR) this.values.push(v);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < RESERVOIR) this.values[i] = v;
    }
  }
  take(): number[] {
    const v = this.values.sort((a, b) => a - b);
    this.values = [];
    this.seen = 0;
    return v;
  }
}

export class GroupSampler {
  readonly #waits = new Reservoir();
  readonly #latencies = new Reservoir();
  readonly #tenants: TenantCounts;
  readonly #offs: (() => void)[] = [];
  #last: { at: number; admitted: number; refused: Record<string, number>; shadow: Record<string, number> } | undefined;

  /** `now`: when it starts listening; the first sample's rates are since then. */
  constructor(
    readonly group: DashboardGroup,
    maxTenants: number,
    readonly tenantKeys: TenantKeys,
    now: number,
  ) {
    this.#tenants = new TenantCounts(maxTenants);
    this.#last = { at: now, ...this.#counts() };
    const listener = (e: GateEvent): void => {
      if (e.type === 'admit') this.#waits.add(e.waitedMs);
      else if (e.type === 'release' && Number.isFinite(e.latencyMs) && e.outcome !== 'ignored') this.#latencies.add(e.latencyMs);
      else if (e.type === 'reject' && e.key !== undefined) this.#tenants.add(e.key);
    };
    // Waits and latencies from the last gate (the one that holds the request); refusals from every gate.
    group.gates.forEach((g, i) => {
      if (g.on === undefined) return;
      const last = i === group.gates.length - 1;
      this.#offs.push(g.on(last ? listener : (e) => e.type === 'reject' && listener(e)));
    });
  }

  get trackedTenants(): number {
    return this.#tenants.size;
  }

  /** The cumulative counts now: the last gate's admissions, every gate's refusals, the shadow's. */
  #counts(stats: readonly GateStats[] = this.group.gates.map((g) => g.stats())): { admitted: number; refused: Record<string, number>; shadow: Record<string, number> } {
    const admitted = stats[stats.length - 1]?.admitted ?? 0;
    const refused: Record<string, number> = {};
    if (this.group.shadow !== true) for (const s of stats) for (const [k, v] of Object.entries(s.rejected) as [RejectionReason, number][]) if (v > 0) refused[k] = (refused[k] ?? 0) + v;
    const shadow: Record<string, number> = Object.fromEntries(this.group.shadowRefusals?.() ?? []);
    return { admitted, refused, shadow };
  }

  sample(now: number, topN: number): GroupSample {
    const stats = this.group.gates.map((g) => g.stats());
    const last = stats[stats.length - 1];
    const { admitted, refused, shadow } = this.#counts(stats);
    const prev = this.#last;
    const secs = prev === undefined ? 0 : (now - prev.at) / 1000;
    const rate = (cur: number, before: number | undefined): number => (secs > 0 ? Math.max(0, Math.round(((cur - (before ?? 0)) / secs) * 10) / 10) : 0);
    const perSec = (cur: Record<string, number>, before: Record<string, number> | undefined): Record<string, number> =>
      Object.fromEntries(Object.entries(cur).map(([k, v]) => [k, rate(v, before?.[k])]));
    this.#last = { at: now, admitted, refused, shadow };
    const concurrency = stats.find((s) => s.kind === 'concurrency');
    const breaker = stats.find((s) => typeof (s as { state?: unknown }).state === 'string') as (GateStats & { state: string }) | undefined;
    const waits = this.#waits.take();
    const latencies = this.#latencies.take();
    const snap = this.group.monitor?.snapshot();
    return {
      name: this.group.name,
      admitted,
      refused,
      admittedPerSec: rate(admitted, prev?.admitted),
      refusedPerSec: perSec(refused, prev?.refused),
      shadowPerSec: perSec(shadow, prev?.shadow),
      inFlight: concurrency?.inFlight ?? last?.inFlight ?? 0,
      limit: concurrency !== undefined && Number.isFinite(concurrency.limit) ? concurrency.limit : null,
      queued: stats.reduce((a, s) => a + s.queued, 0),
      waitP50Ms: quantile(waits, 0.5),
      waitP99Ms: quantile(waits, 0.99),
      latencyP50Ms: quantile(latencies, 0.5),
      latencyP99Ms: quantile(latencies, 0.99),
      breaker: breaker?.state ?? null,
      pressure:
        snap === undefined
          ? null
          : { level: snap.level, pressure: snap.pressure, signals: snap.signals.map((s) => ({ name: s.name, level: s.level, pressure: Number.isFinite(s.pressure) ? s.pressure : 0 })) },
      topTenants: this.#tenants.top(topN).map(([k, n]): [string, number] => [shownKey(k, this.tenantKeys), n]),
      info: this.group.info?.() ?? {},
    };
  }

  close(): void {
    for (const off of this.#offs) off();
    this.#offs.length = 0;
  }
}
