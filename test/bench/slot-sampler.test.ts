import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { concurrencyOf, sampleSlots, summarize } from '../../bench/gateway/slot-sampler.js';

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
    } finally {
      server.close();
    }
    expect(await sampleSlots(undefined).stop()).toBeUndefined();
  });
});
