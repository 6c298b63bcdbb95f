/** The goals for the gateway, judged on measured rows, each with its figure. */
import type { Measurement } from './measure.js';
import type { ClosedRow, RateRow } from './closed-loop.js';
import { openRowValidity } from './open-validity.js';

export interface GatewayGoal {
  readonly label: string;
  readonly met: boolean;
  readonly figure: string;
  /** False: the row cannot say (an open-loop row whose generator fell behind, open-validity.ts); `met` is then false too. */
  readonly judged?: boolean;
}

export interface GoalInputs {
  /** The gateway row at the top load (8x). */
  readonly top: Measurement | undefined;
  /** The node 503 floor's row at the same load, when it ran: the refusal latency this harness adds with no gateway at all. */
  readonly floor?: Measurement | undefined;
  /** The upstream's capacity, req/s: measured in rows that saturated it, else the nominal (open-validity.ts). */
  readonly capacity: number;
  readonly serviceMs: number;
  readonly queueTimeoutMs: number;
  /** RSS growth over the top-load run, MB, and how long that run was. */
  readonly overhead: { readonly bare: readonly Measurement[]; readonly gateway: readonly Measurement[] };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * RSS growth over a run, MB: the least-squares line through the once-a-second samples, from the
 * first second to the last. Under GC the series is a sawtooth (a --long 8x row swung 167 → 319 →
 * 176 → 296 → 266 MB), and last − first said +99 MB for a trend of +37: it measured where the
 * last sample fell on a tooth. A steady climb gives last − first.
 */
export function rssGrowthMb(m: Pick<Measurement, 'rssSeriesMb'>): number {
  const s = m.rssSeriesMb;
  const n = s.length;
  if (n < 2) return NaN;
  const xMean = (n - 1) / 2;
  const yMean = s.reduce((a, b) => a + b, 0) / n;
  let cov = 0;
  let varX = 0;
  for (let i = 0; i < n; i++) {
    cov += (i - xMean) * (s[i]! - yMean);
    varX += (i - xMean) ** 2;
  }
  return (cov / varX) * (n - 1);
}

/**
 * The refusal p99 of the node 503 floor in the same run, beside a contender's: the generator, loopback and kernel alone
 * add it, so a floor above the goal means no contender can be seen to meet it on this machine at this load.
 */
function floorNote(floor: Measurement | undefined): string {
  if (floor === undefined || !Number.isFinite(floor.refusedP99)) return '';
  return `; the node 503 floor, refusing at once with no gateway, measured ${floor.refusedP99.toFixed(1)} ms in this run${floor.refusedP99 > 5 ? ': this harness cannot show 5 ms on this machine at this load' : ''}`;
}

export function judgeGateway(g: GoalInputs, name: string): GatewayGoal[] {
  const t = g.top;
  if (t === undefined) return [];
  const p99Bound = g.serviceMs + g.queueTimeoutMs + 10;
  const growth = rssGrowthMb(t);
  const bareRps = median(g.overhead.bare.map((m) => m.goodput));
  const gwRps = median(g.overhead.gateway.map((m) => m.goodput));
  const bareP99 = median(g.overhead.bare.map((m) => m.p99));
  const gwP99 = median(g.overhead.gateway.map((m) => m.p99));
  const goals: GatewayGoal[] = [
    {
      label: `${name} at ${t.multiple}x: goodput >= 95% of the upstream's capacity (${Math.round(g.capacity)} req/s)`,
      met: t.goodput >= 0.95 * g.capacity,
      figure: `${Math.round(t.goodput)} req/s = ${((t.goodput / g.capacity) * 100).toFixed(1)}%`,
    },
    {
      label: `${name} at ${t.multiple}x: p99 of successes <= service time + queue timeout + 10 ms (${p99Bound} ms)`,
      met: t.p99 <= p99Bound,
      figure: `${t.p99.toFixed(1)} ms`,
    },
    { label: `${name} at ${t.multiple}x: rejections answered with p99 <= 5 ms`, met: t.refusedP99 <= 5, figure: `${t.refusedP99.toFixed(1)} ms over ${t.refused} rejections${floorNote(g.floor)}` },
    {
      label: `${name} at ${t.multiple}x: 100% of rejections carry Retry-After`,
      met: t.refused > 0 && t.retryAfterShare === 1,
      figure: t.refused === 0 ? 'no rejections' : `${(t.retryAfterShare * 100).toFixed(2)}%`,
    },
    {
      label: `${name} at ${t.multiple}x: RSS growth <= 30 MB over the run (the issue: over 60 s; --long; the least-squares trend of the samples)`,
      met: growth <= 30,
      figure: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB over ${t.seconds} s (samples ${t.rssSeriesMb[0]} → ${t.rssSeriesMb[t.rssSeriesMb.length - 1]} MB, peak ${Math.max(...t.rssSeriesMb)})`,
    },
  ];
  // A row the generator did not load as planned is not evidence either way: its goals say so, with the figures.
  const validity = openRowValidity(t);
  if (!validity.valid) for (const [i, goal] of goals.entries()) goals[i] = { ...goal, met: false, judged: false, figure: `${validity.why}; measured ${goal.figure}` };
  if (g.overhead.bare.length > 0 && g.overhead.gateway.length > 0) {
    goals.push(
      { label: `${name} at 0.5x: throughput within 10% of the bare Node proxy`, met: gwRps >= 0.9 * bareRps, figure: `${Math.round(gwRps)} vs ${Math.round(bareRps)} req/s (${((gwRps / bareRps) * 100).toFixed(1)}%)` },
      { label: `${name} at 0.5x: p99 within 10% of the bare Node proxy`, met: gwP99 <= 1.1 * bareP99, figure: `${gwP99.toFixed(1)} vs ${bareP99.toFixed(1)} ms (${((gwP99 / bareP99) * 100).toFixed(0)}%)` },
    );
  }
  return goals;
}

/** The closed-loop goals, judged on the closed rows and the rate rows. */
export function judgeClosed(closed: readonly ClosedRow[], rates: readonly RateRow[], capacity: number, limit: number): GatewayGoal[] {
  const goals: GatewayGoal[] = [];
  const at = (name: string, conns: number): ClosedRow | undefined => closed.find((r) => r.contender === name && r.connections === conns);
  for (const [name, share] of [['sluice 1 worker', 0.95], ['sluice 2 workers', 0.97]] as const) {
    const r = at(name, 2000);
    if (r !== undefined) goals.push({ label: `${name}, closed loop at 2,000 connections: goodput >= ${share * 100}% of capacity (${Math.round(capacity)} req/s)`, met: r.goodput >= share * capacity, figure: `${Math.round(r.goodput)} req/s = ${((r.goodput / capacity) * 100).toFixed(1)}%` });
    const mine = closed.filter((x) => x.contender === name);
    if (mine.length > 0) {
      const worst = mine.reduce((a, b) => (b.goodput < a.goodput ? b : a));
      goals.push({ label: `${name}, closed loop: never below 90% of capacity at any connection count measured`, met: worst.goodput >= 0.9 * capacity, figure: `lowest ${Math.round(worst.goodput)} req/s = ${((worst.goodput / capacity) * 100).toFixed(1)}% at ${worst.connections} connections` });
    }
  }
  const two = closed.filter((r) => r.contender === 'sluice 2 workers');
  if (two.length > 0) {
    const peak = Math.max(...two.map((r) => r.upstreamPeakInFlight));
    goals.push({ label: `sluice 2 workers: upstream in-flight never above the limit (${limit})`, met: peak <= limit, figure: `peak ${peak} (the upstream's own count)` });
  }
  if (rates.length > 0) {
    // A row whose client could not offer the rate (its ceiling through an unlimited route is under it) says nothing about the limiter.
    const judged = rates.filter((r) => !r.clientBound);
    const bound = rates.length - judged.length;
    const skipped = bound === 0 ? '' : `; ${bound} client-bound row(s) not judged`;
    if (judged.length === 0) goals.push({ label: 'rate: admitted within ±1% of rate × t + burst at every connection count, 1 and 2 workers', met: false, figure: `no row where the client could offer the rate${skipped}` });
    else {
      const worst = judged.reduce((a, b) => (Math.abs(b.deviation) > Math.abs(a.deviation) ? b : a));
      goals.push({
        label: 'rate: admitted within ±1% of rate × t + burst at every connection count, 1 and 2 workers (counted at the upstream over [first, last] arrival)',
        met: judged.every((r) => Math.abs(r.deviation) <= 0.01),
        figure: `worst ${(worst.deviation * 100).toFixed(2)}% (${worst.contender}, ${worst.connections} connections)${skipped}`,
      });
    }
  }
  return goals;
}
