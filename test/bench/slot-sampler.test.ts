import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { concurrencyOf, sampleOf, sampleSlots, summarize, within } from '../../bench/gateway/slot-sampler.js';

describe('bench slot sampler', () => {
  it('sums the concurrency gates of every policy and ignores the other kinds', () => {
    const status = {
      policies: [
        { gates: [{ kind: 'rate', inFlight: 9 }, { kind: 'concurrency', inFlight: 30, queued: 4, limit: 50 }] },
        { gates: [{ kind: 'concurrency', inFlight: 5, queued: 0, limit: 10 }] },
      ],
    };
    expect(concurrencyOf(status)).toEqual({ inFlight: 35, queued: 4, limit: 60 });
    expect(concurrencyOf({ policies: [{ gates: [{ kind: 'rate' }] }] })).toBeUndefined();
  });

  it('counts a sample as demand-idle only with an empty queue and a free permit', () => {
    const s = summarize([
      { inFlight: 50, queued: 0, limit: 50 },
      { inFlight: 40, queued: 0, limit: 50 },
      { inFlight: 45, queued: 3, limit: 50 },
      { inFlight: 50, queued: 9, limit: 50 },
    ]);
    expect(s).toEqual({ samples: 4, meanInFlight: 46.25, meanQueued: 3, emptyWithFree: 0.25 });
    expect(summarize([])).toBeUndefined();
  });

  it('splits a primary\'s /status by worker and counts a slot idle in one while another\'s callers wait', () => {
    const worker = (inFlight: number, queued: number, limit: number, open: number) => ({ status: { connections: { open }, policies: [{ gates: [{ kind: 'concurrency', inFlight, queued, limit }] }] } });
    const primary = (a: ReturnType<typeof worker>, b: ReturnType<typeof worker>) => ({ ...mergedOf(a, b), workers: [a, b] });
    const mergedOf = (a: ReturnType<typeof worker>, b: ReturnType<typeof worker>) => {
      const [x, y] = [a.status.policies[0]!.gates[0]!, b.status.policies[0]!.gates[0]!];
      return { policies: [{ gates: [{ kind: 'concurrency', inFlight: x.inFlight + y.inFlight, queued: x.queued + y.queued, limit: x.limit + y.limit }] }] };
    };
    const seen = [
      primary(worker(20, 0, 25, 30), worker(25, 7, 25, 70)), // #0 idle with 5 free while #1 queues: hidden in the merged sample (queued 7)
      primary(worker(25, 3, 25, 30), worker(25, 9, 25, 70)),
      primary(worker(24, 0, 25, 30), worker(24, 0, 25, 70)), // both idle: demand, not the split
    ].map((st) => sampleOf(st)!);
    const s = summarize(seen)!;
    expect(s.emptyWithFree).toBeCloseTo(1 / 3);
    expect(s.perWorker).toHaveLength(2);
    expect(s.perWorker![0]).toEqual({ meanInFlight: 23, meanQueued: 1, meanLimit: 25, meanConnections: 30, idleWhileOtherQueued: 1 / 3 });
    expect(s.perWorker![1]!.idleWhileOtherQueued).toBe(0);
    expect(s.perWorker![1]!.meanConnections).toBe(70);
    // One process: no split.
    expect(summarize([sampleOf(mergedOf(worker(1, 0, 2, 1), worker(1, 0, 2, 1)))!])!.perWorker).toBeUndefined();
  });

  it('summarizes the samples read within a span only (a closed-loop row\'s window, the seconds of its goodput)', () => {
    const seen = [
      { inFlight: 10, queued: 0, limit: 50, at: 100 }, // the onset: left out
      { inFlight: 50, queued: 5, limit: 50, at: 2_100 },
      { inFlight: 48, queued: 0, limit: 50, at: 2_150 },
      { inFlight: 20, queued: 0, limit: 50, at: 7_100 }, // after the window
    ];
    expect(summarize(within(seen, { from: 2_000, to: 7_000 }))).toEqual({ samples: 2, meanInFlight: 49, meanQueued: 2.5, emptyWithFree: 0.5 });
    expect(within(seen, undefined)).toHaveLength(4);
    expect(within([{ inFlight: 1, queued: 0, limit: 2 }], { from: 0, to: 1 })).toHaveLength(1);
  });

  it('reads a live /status until stopped, skipping answers it cannot parse', async () => {
    let n = 0;
    const server = createServer((_req, res) => {
      n++;
      res.end(n % 2 === 0 ? 'not json' : JSON.stringify({ policies: [{ gates: [{ kind: 'concurrency', inFlight: 2, queued: 1, limit: 4 }] }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sampling = sampleSlots(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 5);
      while (n < 6) await new Promise((r) => setTimeout(r, 5));
      const s = await sampling.stop();
      expect(s?.samples).toBeGreaterThanOrEqual(3);
      expect(s?.meanInFlight).toBe(2);
      expect(s?.emptyWithFree).toBe(0);
      // Every live sample carries its time: a span before the sampling started holds none of them.
      const later = sampleSlots(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 5);
      const n0 = n;
      while (n < n0 + 4) await new Promise((r) => setTimeout(r, 5));
      expect(await later.stop({ from: 0, to: 1 })).toBeUndefined();
    } finally {
      server.close();
    }
    expect(await sampleSlots(undefined).stop()).toBeUndefined();
  });
});
