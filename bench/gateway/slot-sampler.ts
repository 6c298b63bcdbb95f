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
}

interface StatusGates {
  policies?: { gates?: { kind?: string; inFlight?: number; queued?: number; limit?: number }[] }[];
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

/** Samples `adminUrl`/status every `everyMs` until stopped; undefined at stop when nothing was read. */
export function sampleSlots(adminUrl: string | undefined, everyMs = 50): { stop: () => Promise<SlotSamples | undefined> } {
  if (adminUrl === undefined) return { stop: () => Promise.resolve(undefined) };
  const seen: { inFlight: number; queued: number; limit: number }[] = [];
  let stopped = false;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        const c = concurrencyOf((await (await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(1_000) })).json()) as StatusGates);
        if (c !== undefined && !stopped) seen.push(c);
      } catch {
        // A status read that failed or timed out under the storm is skipped, not counted as empty.
      }
      const wait = everyMs - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return summarize(seen);
    },
  };
}

/** The means and the empty-with-a-free-permit share of a list of samples. */
export function summarize(seen: readonly { inFlight: number; queued: number; limit: number }[]): SlotSamples | undefined {
  if (seen.length === 0) return undefined;
  const mean = (f: (s: (typeof seen)[number]) => number): number => seen.reduce((a, s) => a + f(s), 0) / seen.length;
  return {
    samples: seen.length,
    meanInFlight: mean((s) => s.inFlight),
    meanQueued: mean((s) => s.queued),
    emptyWithFree: mean((s) => (s.queued === 0 && s.inFlight < s.limit ? 1 : 0)),
  };
}
