/**
 * The closed-loop section of `npm run bench:gateway`: wrk connections that re-send as soon
 * as they are answered (503 included) — the retry storm of seed 002 — against each
 * contender, at several connection counts; and the rate limit's accuracy under the same
 * kind of client. A probe beside wrk (a fresh connection a few times a second) measures
 * what a refusal costs a newcomer while the storm runs: wrk reports one latency for every
 * answer, refusals and successes mixed.
 */
import { request } from 'node:http';
import type { ServerChild } from '../../src/demo/server-child.js';
import type { Running } from './contenders.js';
import { settleUpstream } from './measure.js';
import { ProcSampler } from './proc-sampler.js';
import { runWrk } from './wrk.js';
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
  /** wrk's socket errors (connect, read, write) and timeouts, and answers other than 2xx/429/503. */
  readonly errors: number;
  readonly timeouts: number;
  readonly other: number;
  readonly cpuPct: number;
  /** CPU % of each process (ProcWindow.cpuMsByProcess): a gateway's primary, then its workers. */
  readonly cpuPctByProcess: readonly number[];
  /** CPU µs per answer wrk got (successes and refusals together). */
  readonly cpuUsPerAnswer: number;
  readonly rssPeakMb: number;
  /** What the upstream served per second, and the most it ever had in service or waiting at once. */
  readonly upstreamServedPerS: number;
  readonly upstreamPeakInFlight: number;
}

export interface RateRow {
  readonly contender: string;
  readonly connections: number;
  readonly seconds: number;
  /** 2xx answers wrk got. */
  readonly admitted: number;
  /** rate × t + burst, t the seconds wrk ran. */
  readonly allowed: number;
  /** admitted / allowed - 1. */
  readonly deviation: number;
  readonly refused: number;
}

/** A fresh connection every `everyMs`: the status and latency of each answer. */
function probe(url: string, everyMs: number): { stop: () => Promise<{ refusals: number[] }> } {
  const refusals: number[] = [];
  const pending = new Set<Promise<void>>();
  const u = new URL(url);
  const timer = setInterval(() => {
    const t0 = performance.now();
    const p = new Promise<void>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/probe', agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 503 || res.statusCode === 429) refusals.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.on('timeout', () => req.destroy());
      req.end();
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
      return { refusals };
    },
  };
}

function p99(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
}

const sum = (r: WrkResult, pred: (status: number) => boolean): number => Object.entries(r.codes).reduce((n, [k, v]) => n + (pred(Number(k)) ? v : 0), 0);

export interface ClosedOptions {
  readonly wrk: string;
  readonly running: Running;
  readonly contender: string;
  readonly upstream: ServerChild;
  readonly connections: number;
  readonly seconds: number;
}

export async function measureClosed(o: ClosedOptions): Promise<ClosedRow> {
  await settleUpstream(o.upstream, 5000);
  const sampler = o.running.pid === undefined ? undefined : new ProcSampler(o.running.pid);
  await o.upstream.request('open');
  sampler?.open();
  const probing = probe(o.running.url, 100);
  const r = await runWrk({ binary: o.wrk, url: o.running.url, connections: o.connections, seconds: o.seconds, threads: 2, timeoutS: 5 });
  const { refusals } = await probing.stop();
  const proc = sampler?.close();
  const up = await o.upstream.request('close');
  const refused = sum(r, (s) => s === 429 || s === 503);
  return {
    contender: o.contender,
    connections: o.connections,
    seconds: r.seconds,
    goodput: sum(r, (s) => s >= 200 && s < 300) / r.seconds,
    refusedPerS: refused / r.seconds,
    retryAfterShare: refused === 0 ? NaN : r.retryAfter / refused,
    p99: r.p99,
    probeRefusalP99: p99(refusals),
    probeRefusals: refusals.length,
    errors: r.errors.connect + r.errors.read + r.errors.write,
    timeouts: r.errors.timeout,
    other: sum(r, (s) => !(s >= 200 && s < 300) && s !== 429 && s !== 503),
    cpuPct: proc === undefined ? NaN : (proc.cpuMs / proc.wallMs) * 100,
    cpuPctByProcess: proc === undefined ? [] : proc.cpuMsByProcess.map((ms) => (ms / proc.wallMs) * 100),
    cpuUsPerAnswer: proc === undefined || r.requests === 0 ? NaN : (proc.cpuMs * 1000) / r.requests,
    rssPeakMb: proc === undefined || proc.rssSeriesMb.length === 0 ? NaN : Math.max(...proc.rssSeriesMb),
    upstreamServedPerS: up.upstream === undefined || up.process === undefined ? NaN : up.upstream.served / (up.process.wallMs / 1000),
    upstreamPeakInFlight: up.upstream?.peakInFlight ?? NaN,
  };
}

export async function measureRate(o: ClosedOptions & { readonly rate: number; readonly burst: number }): Promise<RateRow> {
  await settleUpstream(o.upstream, 5000);
  // A full bucket to start from: the limiter has seen nothing for longer than burst / rate.
  await new Promise((resolve) => setTimeout(resolve, Math.ceil((o.burst / o.rate) * 1000) + 200));
  const r = await runWrk({ binary: o.wrk, url: o.running.url, connections: o.connections, seconds: o.seconds, threads: 2, timeoutS: 5 });
  const admitted = sum(r, (s) => s >= 200 && s < 300);
  const allowed = o.rate * r.seconds + o.burst;
  return { contender: o.contender, connections: o.connections, seconds: r.seconds, admitted, allowed, deviation: admitted / allowed - 1, refused: sum(r, (s) => s === 429) };
}
