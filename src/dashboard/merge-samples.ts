/**
 * One dashboard over several processes (the gateway's workers, or any cluster that sends its
 * samples to one place): the groups of the same name are merged. Counts, rates, in-flight,
 * queue depth and limits add up (each process holds its share); a wait or latency quantile
 * cannot be rebuilt from quantiles, so the merged one is the slowest process's (an upper
 * bound, which is what an operator watches for); the breaker and the pressure level are
 * the worst of any process; top tenants add up by tenant.
 */
// The unchecked rank: a level read from another process's sample is compared as it came.
import { levelRank } from '../pressure/level.js';
import type { PressureLevel } from '../pressure/index.js';
import { argNumber, InvalidArgumentError } from '../core/index.js';
import type { GroupSample } from './group-sampler.js';

const BREAKER_RANK: Readonly<Record<string, number>> = { closed: 0, 'half-open': 1, open: 2 };

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function worseBreaker(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return (BREAKER_RANK[b] ?? 0) > (BREAKER_RANK[a] ?? 0) ? b : a;
}

function worsePressure(a: GroupSample['pressure'], b: GroupSample['pressure']): GroupSample['pressure'] {
  if (a === null) return b;
  if (b === null) return a;
  const ra = levelRank(a.level as PressureLevel);
  const rb = levelRank(b.level as PressureLevel);
  return rb > ra || (rb === ra && b.pressure > a.pressure) ? b : a;
}

/** Merge each process's groups (one list per process) by name; `topN` tenants kept per group. */
export function mergeGroupSamples(perProcess: readonly (readonly GroupSample[])[], topN = 10): GroupSample[] {
  checkPerProcess(perProcess);
  argNumber('topN', topN, 0);
  const byName = new Map<string, GroupSample[]>();
  for (const list of perProcess) for (const g of list) byName.set(g.name, [...(byName.get(g.name) ?? []), g]);
  return [...byName.entries()].map(([name, parts]) => {
    const refused: Record<string, number> = {};
    const refusedPerSec: Record<string, number> = {};
    const shadowPerSec: Record<string, number> = {};
    const tenants = new Map<string, number>();
    let merged: GroupSample = { ...parts[0]!, name };
    let admitted = 0;
    let admittedPerSec = 0;
    let inFlight = 0;
    let queued = 0;
    let limit: number | null = null;
    for (const p of parts) {
      admitted += p.admitted;
      admittedPerSec += p.admittedPerSec;
      inFlight += p.inFlight;
      queued += p.queued;
      if (p.limit !== null) limit = (limit ?? 0) + p.limit;
      addInto(refused, p.refused);
      addInto(refusedPerSec, p.refusedPerSec);
      addInto(shadowPerSec, p.shadowPerSec);
      for (const [t, n] of p.topTenants) tenants.set(t, (tenants.get(t) ?? 0) + n);
      merged = {
        ...merged,
        waitP50Ms: maxOf(merged.waitP50Ms, p.waitP50Ms),
        waitP99Ms: maxOf(merged.waitP99Ms, p.waitP99Ms),
        latencyP50Ms: maxOf(merged.latencyP50Ms, p.latencyP50Ms),
        latencyP99Ms: maxOf(merged.latencyP99Ms, p.latencyP99Ms),
        breaker: worseBreaker(merged.breaker, p.breaker),
        pressure: worsePressure(merged.pressure, p.pressure),
      };
    }
    const round = (v: number): number => Math.round(v * 10) / 10;
    const roundAll = (r: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
    const topTenants = [...tenants.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, topN);
    return { ...merged, admitted, refused, admittedPerSec: round(admittedPerSec), refusedPerSec: roundAll(refusedPerSec), shadowPerSec: roundAll(shadowPerSec), inFlight, limit, queued, topTenants };
  });
}

/** A list per process, each of group samples (objects with a name): what the merge reads. */
function checkPerProcess(perProcess: unknown): void {
  if (!Array.isArray(perProcess)) throw new InvalidArgumentError('perProcess', "an array with each process's group samples (an array each)", perProcess);
  perProcess.forEach((list: unknown, i) => {
    if (!Array.isArray(list)) throw new InvalidArgumentError(`perProcess[${i}]`, 'an array of group samples', list);
    list.forEach((g: unknown, j) => {
      if (typeof g !== 'object' || g === null || typeof (g as { name?: unknown }).name !== 'string') throw new InvalidArgumentError(`perProcess[${i}][${j}]`, 'a group sample (an object with a name)', g);
    });
  });
}
