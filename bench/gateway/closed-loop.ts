/**
 * The closed-loop section of `npm run bench:gateway`: wrk connections that re-send as soon
 * as they are answered (503 included) — the retry storm of seed 002 — against each
 * contender, at several connection counts; and the rate limit's accuracy under the same
 * kind of client. A probe beside wrk (a fresh connection a few times a second) measures
 * what a refusal costs a newcomer while the storm runs: wrk reports one latency for every
 * answer, refusals and successes mixed. It starts once the proxy has accepted every one of
 * wrk's connections (accept-queue.ts): before, a probe's connection waits in the kernel's
 * accept queue behind wrk's own connection storm, which is not what it is there to measure.
 */
import type { ServerChild } from '../../src/demo/server-child.js';
import { UNLIMITED_PATH } from './contenders.js';
import type { Running } from './contenders.js';
import { whenAccepted } from './accept-queue.js';
import { countBetween, countCodes, onsetFacts, windowFacts } from './closed-window.js';
import type { OnsetFacts } from './closed-window.js';
import { p99, probe } from './probe.js';
import { settleUpstream } from './measure.js';
import { machineBusyPct, machineTicks, ProcSampler } from './proc-sampler.js';
import { runWrk } from './wrk.js';
import { sampleSlots } from './slot-sampler.js';
import { meanInServiceBetween, servedSeconds, type ServedSeconds } from './served-seconds.js';
import type { SlotSamples } from './slot-sampler.js';
import type { WrkResult } from './wrk.js';

export interface ClosedRow {
  readonly contender: string;
  readonly connections: number;
  readonly seconds: number;
  /** 2xx per second. */
  readonly goodput: number;
  /** 429 + 503 per second. */
  readonly refusedPerS: number;
  /** Share of refusals with Retry-After; NaN without refusals. */
  readonly retryAfterShare: number;
  /** p99 of every answer wrk saw, ms (refusals and successes mixed). */
  readonly p99: number;
  /** p99 of the refusals a fresh probe connection got during the run, ms; NaN if it got none. */
  readonly probeRefusalP99: number;
  readonly probeRefusals: number;
  /**
   * When the probe started, s after wrk did: once wrk's connections were all accepted
   * (`probeAfterAccept`), or at half the row without that. Absent in records from before
   * the probe waited (it started with wrk, and its p99 was wrk's connection storm's).
   */
  readonly probeFromS?: number;
  readonly probeAfterAccept?: boolean;
  /** wrk's socket errors (connect, read, write) and timeouts, and answers other than 2xx/429/503. */
  readonly errors: number;
  readonly timeouts: number;
  readonly other: number;
  readonly cpuPct: number;
  /** CPU % of each process (ProcWindow.cpuMsByProcess): a gateway's primary, then its workers. */
  readonly cpuPctByProcess: readonly number[];
  /**
   * The share of the whole machine's CPU busy during the row, % of all cores: near 100, the
   * generator, the upstream and the proxy together ran out of CPU, and goodput is bounded by
   * the machine, not by the proxy alone. Absent in records from before it was measured.
   */
  readonly machineCpuPct?: number;
  /** The upstream process's CPU %, of one core. */
  readonly upstreamCpuPct?: number;
  /** CPU µs per answer wrk got (successes and refusals together). */
  readonly cpuUsPerAnswer: number;
  readonly rssPeakMb: number;
  /** What the upstream served per second, and the most it ever had in service or waiting at once. */
  readonly upstreamServedPerS: number;
  readonly upstreamPeakInFlight: number;
  /**
   * Mean requests in service at the upstream (time-weighted; its concurrency is 50): the slots the proxy kept busy.
   * Over the row's window (`inServiceOverWindow`), the seconds of its goodput; over the whole run in records without that flag.
   */
  readonly upstreamMeanInService: number;
  /** upstreamMeanInService and `slots` cover the row's window (after the onset), as its goodput does; absent: the whole run, onset included. */
  readonly inServiceOverWindow?: boolean;
  /** The gateway's refusal pacer over the row, per second (its /status `paused` before and after); absent for other contenders. */
  readonly pacer?: PacerRates;
  /** The gateway's permits, sampled from its /status (slot-sampler.ts) over the row's window (see inServiceOverWindow); absent for other contenders. */
  readonly slots?: SlotSamples;
  /** What the upstream finished in each whole second from wrk's start, and per second after the first ONSET_S (the connections' arrival): served-seconds.ts. */
  readonly served?: ServedSeconds;
  /**
   * What wrk got in the seconds before the row's window (its connections' arrival: closed-window.ts);
   * absent in records from before the row left its onset out (their figures hold it).
   */
  readonly onset?: OnsetFacts;
}

/** The seconds wrk runs before a closed-loop row's window: its connections arrive and are refused a first time (closed-window.ts). */
export const ONSET_S = 2;

/** /status `paused` counters over a row, per second: how refused connections came back. */
export interface PacerRates {
  readonly pauses: number;
  readonly repaused: number;
  readonly woken: number;
  readonly ranOut: number;
  readonly unpaced: number;
}

type PacerCounts = { [K in keyof PacerRates]: number };

async function pacerCounts(adminUrl: string | undefined): Promise<PacerCounts | undefined> {
  if (adminUrl === undefined) return undefined;
  try {
    const p = ((await (await fetch(`${adminUrl}/status`)).json()) as { paused?: Partial<PacerCounts> & { total?: number } }).paused;
    if (p?.total === undefined) return undefined;
    return { pauses: p.total, repaused: p.repaused ?? NaN, woken: p.woken ?? NaN, ranOut: p.ranOut ?? NaN, unpaced: p.unpaced ?? NaN };
  } catch {
    return undefined;
  }
}

function pacerRates(from: PacerCounts | undefined, to: PacerCounts | undefined, seconds: number): PacerRates | undefined {
  if (from === undefined || to === undefined) return undefined;
  const r = (k: keyof PacerCounts): number => (to[k] - from[k]) / seconds;
  return { pauses: r('pauses'), repaused: r('repaused'), woken: r('woken'), ranOut: r('ranOut'), unpaced: r('unpaced') };
}

/** One rate row: what the upstream's arrivals say (ArrivalFacts) and what wrk saw. */
export interface RateRow extends ArrivalFacts {
  readonly contender: string;
  readonly connections: number;
  /** The seconds wrk ran. */
  readonly seconds: number;
  /** rate × spanS + burst. */
  readonly allowed: number;
  /** admitted / allowed − 1. */
  readonly deviation: number;
  /** 2xx answers wrk got, and rate × (wrk's seconds) + burst: the old, coarse measure (misses requests in flight when wrk stops). */
  readonly wrkAdmitted: number;
  readonly wrkAllowed: number;
  readonly wrkDeviation: number;
  /** 429 answers wrk got. */
  readonly refused: number;
  /** Requests wrk had answered per second, admitted and refused. */
  readonly offeredPerS: number;
  /** 2xx per second of the same wrk config through the gateway's unlimited route just before: what this client can offer at all. */
  readonly ceilingPerS: number;
  /** The ceiling is under the rate: a shortfall is the client's, not the limiter's. */
  readonly clientBound: boolean;
  /** Refused connections the gateway paused (server.pauseRefused) during the row, from its /status; NaN when unknown. */
  readonly pauses: number;
}

const sum = (r: WrkResult, pred: (status: number) => boolean): number => countCodes(r.codes, pred);

export interface ClosedOptions {
  readonly wrk: string;
  readonly running: Running;
  readonly contender: string;
  readonly upstream: ServerChild;
  readonly connections: number;
  /** The row's window, after the onset. */
  readonly seconds: number;
  /** Seconds wrk runs before the window (its connections' arrival), not counted in the row. @default ONSET_S */
  readonly onsetS?: number;
  /** The upstream's service slots: its in-service count over the window is min(in flight, this). @default 50 */
  readonly upstreamConcurrency?: number;
}

/**
 * wrk for `onsetS` + `seconds`: the row's goodput, refusals, Retry-After share, CPU, machine CPU,
 * pacer rates, the upstream's served per second and mean in service and the gateway's permits
 * are the window's (the steady state), what wrk got during the onset is reported beside them
 * (closed-window.ts). wrk's p99, the probe and the upstream's peak in flight cover the whole run.
 */
export async function measureClosed(o: ClosedOptions): Promise<ClosedRow> {
  const onsetS = o.onsetS ?? ONSET_S;
  await settleUpstream(o.upstream);
  const sampler = o.running.pid === undefined ? undefined : new ProcSampler(o.running.pid);
  await o.upstream.request('open');
  // The probe waits for wrk's connections to be accepted, at most half the run.
  const wrkStart = performance.now();
  const accepted = whenAccepted(Number(new URL(o.running.url).port), o.connections, ((onsetS + o.seconds) * 1000) / 2).then((w) => ({ ...w, fromS: (performance.now() - wrkStart) / 1000 }));
  const probing = probe(o.running.url, 100, accepted);
  const slotting = sampleSlots(o.running.adminUrl);
  const wrkStartMono = Number(process.hrtime.bigint()) / 1e6; // the upstream's clock (CLOCK_MONOTONIC)
  // The window opens for this process's readings when wrk's script starts counting it apart.
  let windowStartMono = wrkStartMono + onsetS * 1000;
  const opening = new Promise<{ machineFrom: ReturnType<typeof machineTicks>; pacerFrom: PacerCounts | undefined }>((resolve) => {
    setTimeout(() => {
      windowStartMono = Number(process.hrtime.bigint()) / 1e6;
      sampler?.open();
      const machineFrom = machineTicks();
      void pacerCounts(o.running.adminUrl).then((pacerFrom) => resolve({ machineFrom, pacerFrom }));
    }, onsetS * 1000);
  });
  const r = await runWrk({ binary: o.wrk, url: o.running.url, connections: o.connections, seconds: onsetS + o.seconds, threads: 2, timeoutS: 5, fromS: onsetS });
  const { machineFrom, pacerFrom } = await opening;
  const w = windowFacts(r);
  const span = r.window === undefined ? undefined : { from: windowStartMono, to: windowStartMono + w.seconds * 1000 };
  const slots = await slotting.stop(span);
  const pacer = pacerRates(pacerFrom, await pacerCounts(o.running.adminUrl), w.seconds);
  const { refusals } = await probing.stop();
  const probeStart = await accepted;
  const proc = sampler?.close();
  const machineCpuPct = machineBusyPct(machineFrom, machineTicks());
  const up = await o.upstream.request('close');
  const departures = up.upstream?.departures;
  const arrivals = up.upstream?.arrivals;
  const inService = span !== undefined && arrivals !== undefined && departures !== undefined ? meanInServiceBetween(arrivals, departures, span.from, span.to, o.upstreamConcurrency ?? 50) : undefined;
  const onset = onsetFacts(r);
  return {
    contender: o.contender,
    connections: o.connections,
    seconds: w.seconds,
    goodput: w.good / w.seconds,
    refusedPerS: w.refused / w.seconds,
    retryAfterShare: w.refused === 0 ? NaN : w.retryAfter / w.refused,
    p99: r.p99,
    probeRefusalP99: p99(refusals),
    probeRefusals: refusals.length,
    probeFromS: probeStart.fromS,
    probeAfterAccept: probeStart.accepted,
    errors: r.errors.connect + r.errors.read + r.errors.write,
    timeouts: r.errors.timeout,
    other: w.other,
    cpuPct: proc === undefined ? NaN : (proc.cpuMs / proc.wallMs) * 100,
    cpuPctByProcess: proc === undefined ? [] : proc.cpuMsByProcess.map((ms) => (ms / proc.wallMs) * 100),
    cpuUsPerAnswer: proc === undefined || w.requests === 0 ? NaN : (proc.cpuMs * 1000) / w.requests,
    machineCpuPct,
    upstreamCpuPct: up.process === undefined ? NaN : (up.process.cpuMs / up.process.wallMs) * 100,
    rssPeakMb: proc === undefined || proc.rssSeriesMb.length === 0 ? NaN : Math.max(...proc.rssSeriesMb),
    upstreamServedPerS:
      departures !== undefined && r.window !== undefined
        ? countBetween(departures, windowStartMono, windowStartMono + w.seconds * 1000) / w.seconds
        : up.upstream === undefined || up.process === undefined
          ? NaN
          : up.upstream.served / (up.process.wallMs / 1000),
    upstreamPeakInFlight: up.upstream?.peakInFlight ?? NaN,
    upstreamMeanInService: inService ?? up.upstream?.meanInService ?? NaN,
    ...(inService === undefined ? {} : { inServiceOverWindow: true }),
    ...(pacer === undefined ? {} : { pacer }),
    ...(slots === undefined ? {} : { slots }),
    ...(departures === undefined ? {} : { served: servedSeconds(departures, wrkStartMono, r.seconds, onsetS) }),
    ...(onset === undefined ? {} : { onset }),
  };
}

/** The gateway's refused-connection pauses so far (admin /status; merged over workers); NaN without one. */
async function pausesSoFar(adminUrl: string | undefined): Promise<number> {
  if (adminUrl === undefined) return NaN;
  try {
    const status = (await (await fetch(`${adminUrl}/status`)).json()) as { paused?: { total?: number } };
    return status.paused?.total ?? NaN;
  } catch {
    return NaN;
  }
}

export interface RateOptions extends ClosedOptions {
  readonly rate: number;
  readonly burst: number;
  /** Seconds of the ceiling run through the unlimited route; 0: none. */
  readonly ceilingSeconds: number;
}

export interface ArrivalFacts {
  /**
   * Requests that reached the upstream (every one was admitted: the route has no other gate),
   * counted by the upstream as they arrived, with the time of each: the exact measure.
   */
  readonly admitted: number;
  /** Last arrival − first arrival, s. */
  readonly spanS: number;
  readonly maxGapMs: number;
  /** Tokens the replayed bucket threw away while full. */
  readonly overflowed: number;
  /** Of those, tokens thrown away while every connection of the client had a request inside the upstream. */
  readonly overflowedAllHeld: number;
  /** Longest time a request spent inside the upstream, ms. */
  readonly maxUpstreamMs: number;
  /** Refusals (as wrk got them) between the first and last arrival; NaN without their times. */
  readonly refusalsInSpan: number;
  /** Of those, refusals that came while the replayed bucket held at least half its burst; NaN without their times. */
  readonly refusedWithTokens: number;
}

/**
 * What the times say (all CLOCK_MONOTONIC ms, one host): the span of the upstream's
 * arrivals, the longest gap, and a bucket of `rate` and `burst` replayed over them (full at
 * the first arrival: the row starts after more than burst / rate idle; each arrival takes
 * one token; every request reaching the upstream was admitted):
 * - the tokens it threw away while full: nobody took them. Of those, the ones lost while all
 *   `connections` of the client had a request inside the upstream (arrived, not yet
 *   answered): a closed-loop client then has nothing left to ask with;
 * - with the refusals' times (`refusedAt`, when wrk got each 429): how many came while the
 *   replayed bucket held at least half its burst — a limiter refusing with tokens in hand.
 *   Half a burst (25 ms of the rate at 2,000/s burst 100) is the margin for the time between
 *   a decision and its arrival at the upstream or its answer at wrk.
 */
export function arrivalFacts(arrivals: readonly number[], departures: readonly number[], rate: number, burst: number, connections: number, refusedAt?: readonly number[]): ArrivalFacts {
  const perMs = rate / 1000;
  let maxGapMs = 0;
  let overflowed = 0;
  let overflowedAllHeld = 0;
  let level = burst;
  const first = arrivals[0] ?? 0;
  const last = arrivals[arrivals.length - 1] ?? 0;
  let t = first;
  let held = 0;
  const refill = (until: number): void => {
    if (until <= t) return;
    level += (until - t) * perMs;
    t = until;
    if (level <= burst) return;
    overflowed += level - burst;
    if (held >= connections) overflowedAllHeld += level - burst;
    level = burst;
  };
  let refusalsInSpan = 0;
  let refusedWithTokens = 0;
  // Merge the three sorted series in time order: departures before arrivals before refusals at one instant.
  const refused = refusedAt ?? [];
  let a = 0;
  let d = 0;
  let r = 0;
  while (a < arrivals.length) {
    const ta = arrivals[a]!;
    const td = d < departures.length ? departures[d]! : Infinity;
    const tr = r < refused.length ? refused[r]! : Infinity;
    if (td <= ta && td <= tr) {
      refill(td);
      held--;
      d++;
    } else if (ta <= tr) {
      refill(ta);
      if (a > 0) maxGapMs = Math.max(maxGapMs, ta - arrivals[a - 1]!);
      // Arrivals lag admissions by a varying delay, so two can come closer than the bucket allows: it goes into debt.
      level -= 1;
      held++;
      a++;
    } else {
      if (tr >= first && tr <= last) {
        refill(tr);
        refusalsInSpan++;
        if (level >= burst / 2) refusedWithTokens++;
      }
      r++;
    }
  }
  let maxUpstreamMs = 0;
  // FIFO enough for a 1 ms upstream: the i-th departure answers about the i-th arrival.
  for (let i = 0; i < Math.min(arrivals.length, departures.length); i++) maxUpstreamMs = Math.max(maxUpstreamMs, departures[i]! - arrivals[i]!);
  return {
    admitted: arrivals.length,
    spanS: arrivals.length < 2 ? 0 : (last - first) / 1000,
    maxGapMs,
    overflowed,
    overflowedAllHeld,
    maxUpstreamMs,
    refusalsInSpan: refusedAt === undefined ? NaN : refusalsInSpan,
    refusedWithTokens: refusedAt === undefined ? NaN : refusedWithTokens,
  };
}

export async function measureRate(o: RateOptions): Promise<RateRow> {
  let ceilingPerS = NaN;
  if (o.ceilingSeconds > 0) {
    await settleUpstream(o.upstream);
    const c = await runWrk({ binary: o.wrk, url: `${o.running.url}${UNLIMITED_PATH}`, connections: o.connections, seconds: o.ceilingSeconds, threads: 2, timeoutS: 5 });
    ceilingPerS = sum(c, (s) => s >= 200 && s < 300) / c.seconds;
  }
  await settleUpstream(o.upstream);
  // A full bucket to start from: the limiter has seen nothing for longer than burst / rate.
  await new Promise((resolve) => setTimeout(resolve, Math.ceil((o.burst / o.rate) * 1000) + 200));
  await o.upstream.request('open');
  const pausesBefore = await pausesSoFar(o.running.adminUrl);
  const r = await runWrk({ binary: o.wrk, url: o.running.url, connections: o.connections, seconds: o.seconds, threads: 2, timeoutS: 5, refusalTimes: true });
  const pauses = (await pausesSoFar(o.running.adminUrl)) - pausesBefore;
  // Requests admitted just before wrk stopped reach the upstream after it: they count too.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await settleUpstream(o.upstream);
  const up = await o.upstream.request('close');
  const f = arrivalFacts(up.upstream?.arrivals ?? [], up.upstream?.departures ?? [], o.rate, o.burst, o.connections, r.refusedAt);
  const allowed = o.rate * f.spanS + o.burst;
  const wrkAdmitted = sum(r, (s) => s >= 200 && s < 300);
  const wrkAllowed = o.rate * r.seconds + o.burst;
  const refused = sum(r, (s) => s === 429);
  return {
    contender: o.contender,
    connections: o.connections,
    seconds: r.seconds,
    ...f,
    allowed,
    deviation: f.admitted / allowed - 1,
    wrkAdmitted,
    wrkAllowed,
    wrkDeviation: wrkAdmitted / wrkAllowed - 1,
    refused,
    offeredPerS: (wrkAdmitted + refused) / r.seconds,
    ceilingPerS,
    clientBound: ceilingPerS < o.rate,
    pauses,
  };
}
