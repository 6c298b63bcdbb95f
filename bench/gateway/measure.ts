/**
 * One measurement: open-loop load at a multiple of capacity through one contender, with
 * the contender's CPU and RSS read from /proc and the upstream's own window (how much it
 * served, its peak queue) from the upstream process.
 */
import { ConnectionPool } from '../../src/demo/connection-pool.js';
import { runOpenLoop } from '../../src/demo/open-loop.js';
import type { ServerChild } from '../../src/demo/server-child.js';
import type { Running } from './contenders.js';
import { readRefusals } from './gateway-refusals.js';
import { listenOverflows, ProcSampler } from './proc-sampler.js';
import { sampleSlots } from './slot-sampler.js';
import type { SlotSamples } from './slot-sampler.js';

export interface Measurement {
  readonly contender: string;
  readonly multiple: number;
  readonly offered: number;
  readonly seconds: number;
  readonly sent: number;
  /** 2xx answers per second that arrived while the load was being sent. */
  readonly goodput: number;
  readonly p50: number;
  readonly p99: number;
  readonly refused: number;
  readonly refusedByStatus: Readonly<Record<string, number>>;
  readonly refusedP99: number;
  /** Share of refusals with Retry-After; NaN without refusals. */
  readonly retryAfterShare: number;
  readonly timeouts: number;
  readonly errors: number;
  readonly otherStatus: Readonly<Record<string, number>>;
  /** Requests the upstream completed per second (to clients still there or not). */
  readonly upstreamServedPerS: number;
  readonly upstreamPeakQueue: number;
  /** The contender's CPU, % of one core; NaN for "no proxy". */
  readonly cpuPct: number;
  /** The contender's CPU time over the run, ms; NaN for "no proxy". */
  readonly cpuMs: number;
  /** The contender's RSS once a second, MB. */
  readonly rssSeriesMb: readonly number[];
  readonly maxLagMs: number;
  /** Connection attempts dropped at a full accept queue during the run (machine-wide). */
  readonly listenOverflows: number;
  /**
   * Refusals of every reason counted by sluice's gates (admin /status) over a span that is not the window's: from a read
   * issued at the window's start to one after every request settled, so warm-up requests refused after the first read
   * and window requests the client had abandoned count too (gateway-refusals.ts). NaN for other contenders.
   */
  readonly statusRefused: number;
  /**
   * Of those, queue_timeout (same span as `statusRefused`); early refusals (a wait expected past the budget, refused
   * at once) count there too. Records before this field (bench/gateway/README.md) call it `queueTimeouts`.
   */
  readonly statusQueueTimeouts: number;
  /** The load generator's own CPU over the window, % of one core (this process: it shares its core with the upstream). */
  readonly generatorCpuPct: number;
  /** Mean requests in service at the upstream over the window (time-weighted; its concurrency is 50): the slots the proxy kept busy. */
  readonly upstreamMeanInService: number;
  /** Requests the upstream served whose client had gone (abandoned at the proxy, or by the generator): work that made no goodput. */
  readonly upstreamServedToGone: number;
  /** The gateway's permits over the window, sampled from its /status (slot-sampler.ts); absent for other contenders. */
  readonly slots?: SlotSamples;
}

export interface MeasureOptions {
  readonly contender: string;
  readonly running: Running;
  readonly upstream: ServerChild;
  readonly capacity: number;
  readonly multiple: number;
  readonly durationMs: number;
  /** Load at the same rate before the measured window, not counted (see runOpenLoop). */
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly maxSockets: number;
}

/** Connections open before each row: arrivals over this long. */
const PREOPEN_MS = 25;

/**
 * Wait until the upstream has served everything queued inside it: a row straight at it past
 * capacity ("no proxy") leaves tens of thousands of abandoned requests that it still serves,
 * and a contender measured while it does so sees an upstream with no capacity left (at
 * fd5dc9a the sluice row after "no proxy 8x" got 75/s with a 4 s wait, 2,227/s alone). Waits
 * up to `maxMs`; says so, loudly, when the upstream is still busy then.
 */
export async function settleUpstream(upstream: ServerChild, maxMs = 120_000): Promise<void> {
  const until = performance.now() + maxMs;
  let backlog = 0;
  while (performance.now() < until) {
    backlog = (await upstream.request('backlog')).backlog ?? 0;
    if (backlog === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.error(`!!! the upstream still holds ${backlog} requests after ${maxMs} ms: the next row starts on a busy upstream !!!`);
}

export async function measure(o: MeasureOptions): Promise<Measurement> {
  await settleUpstream(o.upstream);
  const pool = new ConnectionPool(o.running.url, o.maxSockets);
  const rate = o.capacity * o.multiple;
  // Every row starts with the connections one service time of arrivals needs already open
  // (rate x 25 ms), as clients of a busy service have; more open on demand, up to maxSockets.
  await pool.open(Math.min(o.maxSockets, Math.ceil((rate * PREOPEN_MS) / 1000)));
  const sampler = o.running.pid === undefined ? undefined : new ProcSampler(o.running.pid);
  try {
    let opened: Promise<unknown> | undefined;
    let refusedBefore: ReturnType<typeof readRefusals> = Promise.resolve({ refused: NaN, queueTimeouts: NaN });
    let overflows = 0;
    let generatorFrom: { cpu: NodeJS.CpuUsage; at: number } | undefined;
    let slotting: ReturnType<typeof sampleSlots> | undefined;
    const r = await runOpenLoop({
      pool,
      rate,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      timeoutMs: o.timeoutMs,
      onWindowStart: () => {
        opened = o.upstream.request('open');
        refusedBefore = readRefusals(o.running.adminUrl);
        generatorFrom = { cpu: process.cpuUsage(), at: performance.now() };
        sampler?.open();
        overflows = listenOverflows();
        slotting = sampleSlots(o.running.adminUrl);
      },
    });
    const proc = sampler?.close();
    const slots = await slotting?.stop();
    await opened;
    const generatorCpu = process.cpuUsage(generatorFrom?.cpu);
    const generatorCpuPct = generatorFrom === undefined ? NaN : ((generatorCpu.user + generatorCpu.system) / 1000 / (performance.now() - generatorFrom.at)) * 100;
    const before = await refusedBefore;
    const after = await readRefusals(o.running.adminUrl);
    const up = await o.upstream.request('close');
    const [p50, p99] = r.okLatency.percentiles([50, 99]);
    const [refusedP99] = r.rejectedLatency.percentiles([99]);
    const refused = r.rejectedLatency.count;
    return {
      contender: o.contender,
      multiple: o.multiple,
      offered: rate,
      seconds: o.durationMs / 1000,
      sent: r.sent,
      goodput: r.okInWindow / (o.durationMs / 1000),
      p50: p50!,
      p99: p99!,
      refused,
      refusedByStatus: r.rejected,
      refusedP99: refusedP99!,
      retryAfterShare: refused === 0 ? NaN : r.rejectedWithRetryAfter / refused,
      timeouts: r.timeouts,
      errors: r.errors,
      otherStatus: r.otherStatus,
      upstreamServedPerS: up.upstream === undefined || up.process === undefined ? NaN : up.upstream.served / (up.process.wallMs / 1000),
      upstreamPeakQueue: up.upstream?.peakQueue ?? NaN,
      cpuPct: proc === undefined ? NaN : (proc.cpuMs / proc.wallMs) * 100,
      cpuMs: proc?.cpuMs ?? NaN,
      rssSeriesMb: proc?.rssSeriesMb ?? [],
      maxLagMs: r.maxLagMs,
      listenOverflows: listenOverflows() - overflows,
      statusRefused: after.refused - before.refused,
      statusQueueTimeouts: after.queueTimeouts - before.queueTimeouts,
      generatorCpuPct,
      upstreamMeanInService: up.upstream?.meanInService ?? NaN,
      upstreamServedToGone: up.upstream?.servedToGone ?? NaN,
      ...(slots === undefined ? {} : { slots }),
    };
  } finally {
    pool.destroy();
  }
}
