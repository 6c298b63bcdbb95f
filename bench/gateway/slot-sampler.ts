/**
 * Where a closed-loop row's idle upstream slots go, read from the gateway's own side: its
 * concurrency gates' `inFlight` and `queued` (admin /status, merged over workers), sampled
 * every `everyMs` during the row. The upstream counts the slots it kept busy ("upstream mean
 * in service"); the gateway counts the permits it held. Their difference is turnaround — a
 * permit held while its slot sat idle at the upstream (the response on its way back, the next
 * request on its way out, either loop's lag). The limit minus the gateway's mean in flight is
 * demand: a permit free because nothing admitted was waiting for it. Sampling at a fixed period
 * whose phase is unrelated to the traffic estimates both time-weighted means.
 */

/** What the samples say: means over the row, and how often the queue was empty with a permit free. */
export interface SlotSamples {
  readonly samples: number;
  /** Mean permits held (summed over the gateway's concurrency gates). */
  readonly meanInFlight: number;
  /** Mean requests waiting in those gates' queues. */
  readonly meanQueued: number;
  /** Share of samples (0–1) with no request queued and a permit free: demand, not turnaround, idled a slot. */
  readonly emptyWithFree: number;
  /**
   * With workers (the primary's /status lists each): per worker, mean permits held, mean queued,
   * mean gate limit (the slots it leased), mean client connections open, and the share of samples
   * with its own queue empty and a permit of its own free while another worker's queue was not —
   * a slot idle in one worker while the other's callers wait, which the merged figures hide.
   */
  readonly perWorker?: readonly WorkerSlots[];
}

export interface WorkerSlots {
  readonly meanInFlight: number;
  readonly meanQueued: number;
  readonly meanLimit: number;
  readonly meanConnections: number;
  readonly idleWhileOtherQueued: number;
}

interface StatusGates {
  policies?: { gates?: { kind?: string; inFlight?: number; queued?: number; limit?: number }[] }[];
  connections?: { open?: number };
  workers?: { status?: StatusGates; exited?: boolean }[];
}

/** One /status read: the gates summed, and each worker's own (with its client connections) when a primary answered. */
export interface Sample {
  readonly inFlight: number;
  readonly queued: number;
  readonly limit: number;
  readonly workers?: readonly { readonly inFlight: number; readonly queued: number; readonly limit: number; readonly connections: number }[];
  /** When it was read, ms (CLOCK_MONOTONIC: the clock of the row's window); absent in samples made by hand. */
  readonly at?: number;
}

/** A span of CLOCK_MONOTONIC ms, [from, to): a closed-loop row's window after its onset. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** The samples read within `span` (a sample without its time is kept: it cannot be placed). */
export function within(seen: readonly Sample[], span: Span | undefined): Sample[] {
  return span === undefined ? [...seen] : seen.filter((s) => s.at === undefined || (s.at >= span.from && s.at < span.to));
}

/** A /status answer as a sample; undefined when it has no concurrency gate. A worker that exited is left out of the split. */
export function sampleOf(status: StatusGates): Sample | undefined {
  const c = concurrencyOf(status);
  if (c === undefined) return undefined;
  const workers = status.workers?.flatMap((w) => {
    const g = w.exited === true || w.status === undefined ? undefined : concurrencyOf(w.status);
    return g === undefined ? [] : [{ ...g, connections: w.status?.connections?.open ?? 0 }];
  });
  return workers === undefined || workers.length < 2 ? c : { ...c, workers };
}

/** Sums the concurrency gates of one /status; undefined when the answer has none. */
export function concurrencyOf(status: StatusGates): { inFlight: number; queued: number; limit: number } | undefined {
  let inFlight = 0;
  let queued = 0;
  let limit = 0;
  let found = false;
  for (const p of status.policies ?? []) {
    for (const g of p.gates ?? []) {
      if (g.kind !== 'concurrency' || g.inFlight === undefined) continue;
      found = true;
      inFlight += g.inFlight;
      queued += g.queued ?? 0;
      limit += g.limit ?? 0;
    }
  }
  return found ? { inFlight, queued, limit } : undefined;
}

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Samples `adminUrl`/status every `everyMs` until stopped; undefined at stop when nothing was read.
 * `stop(span)` summarizes the samples read within `span` only (the row's window: the same seconds as its goodput).
 */
export function sampleSlots(adminUrl: string | undefined, everyMs = 50): { stop: (span?: Span) => Promise<SlotSamples | undefined> } {
  if (adminUrl === undefined) return { stop: () => Promise.resolve(undefined) };
  const seen: Sample[] = [];
  let stopped = false;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      const t0 = performance.now();
      const sent = monotonicMs();
      try {
        const c = sampleOf((await (await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(1_000) })).json()) as StatusGates);
        // Placed midway between the request and its answer: the gateway read its gates in between.
        if (c !== undefined && !stopped) seen.push({ ...c, at: (sent + monotonicMs()) / 2 });
      } catch {
        // A status read that failed or timed out under the storm is skipped, not counted as empty.
      }
      const wait = everyMs - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async (span) => {
      stopped = true;
      await loop;
      return summarize(within(seen, span));
    },
  };
}

/** The means and the empty-with-a-free-permit share of a list of samples; per worker over the samples that list every worker. */
export function summarize(seen: readonly Sample[]): SlotSamples | undefined {
  if (seen.length === 0) return undefined;
  const mean = (f: (s: (typeof seen)[number]) => number, of = seen): number => of.reduce((a, s) => a + f(s), 0) / of.length;
  const n = seen.find((s) => s.workers !== undefined)?.workers?.length ?? 0;
  const split = seen.filter((s) => s.workers?.length === n);
  const perWorker: WorkerSlots[] = Array.from({ length: split.length === 0 ? 0 : n }, (_x, i) => ({
    meanInFlight: mean((s) => s.workers![i]!.inFlight, split),
    meanQueued: mean((s) => s.workers![i]!.queued, split),
    meanLimit: mean((s) => s.workers![i]!.limit, split),
    meanConnections: mean((s) => s.workers![i]!.connections, split),
    idleWhileOtherQueued: mean((s) => {
      const w = s.workers![i]!;
      return w.queued === 0 && w.inFlight < w.limit && s.workers!.some((o, j) => j !== i && o.queued > 0) ? 1 : 0;
    }, split),
  }));
  return {
    samples: seen.length,
    meanInFlight: mean((s) => s.inFlight),
    meanQueued: mean((s) => s.queued),
    emptyWithFree: mean((s) => (s.queued === 0 && s.inFlight < s.limit ? 1 : 0)),
    ...(perWorker.length === 0 ? {} : { perWorker }),
  };
}
