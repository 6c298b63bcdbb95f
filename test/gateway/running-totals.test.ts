// The status poll carries a worker's running totals alone (running-totals.ts: its counters,
// histograms and summaries as its page writes them, no gauges), not its whole page: the
// primary's /metrics must read the same as with whole pages, for the same counts — whichever
// came first, a poll or a scrape, and across a worker's death and its replacement.
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusMerge } from '../../src/gateway/prometheus-merge.js';
import { runningTotals } from '../../src/gateway/running-totals.js';

/** A worker's registry: a counter with labels to escape, a histogram, a summary and a gauge, interleaved. */
function workerRegistry(): { registry: Registry; count: (n: number) => void } {
  const registry = new Registry();
  const registers = [registry];
  const admitted = new Counter({ name: 'w_admissions_total', help: 'Admissions.', labelNames: ['gate'], registers });
  const level = new Gauge({ name: 'w_in_flight', help: 'In flight.', labelNames: ['gate'], registers });
  const latency = new Histogram({ name: 'w_latency_seconds', help: 'Latency.', labelNames: ['gate'], buckets: [0.01, 0.1, 1], registers });
  const q = new Summary({ name: 'w_wait_seconds', help: 'Waits.', percentiles: [0.5], registers });
  const bad = new Counter({ name: 'w_bad_total', help: 'Bad "requests"\\n.', labelNames: ['reason'], registers });
  return {
    registry,
    count: (n) => {
      for (let i = 0; i < n; i++) {
        admitted.inc({ gate: 'a"b\\c\nd' });
        admitted.inc({ gate: 'plain' }, 2);
        latency.observe({ gate: 'plain' }, (i % 7) / 10);
        q.observe(i / 100);
        bad.inc({ reason: 'x,y}' });
      }
      level.set({ gate: 'plain' }, n);
    },
  };
}

describe('running totals for the status poll', () => {
  it('leave out the gauges, keep every counter, histogram and summary line as the page writes it', async () => {
    const w = workerRegistry();
    w.count(5);
    const page = await w.registry.metrics();
    const totals = await runningTotals([w.registry]);
    expect(totals).not.toMatch(/w_in_flight/);
    const sampleLines = (t: string): string[] => t.split('\n').filter((l) => l !== '' && !l.startsWith('w_in_flight') && !l.includes(' w_in_flight '));
    expect(new Set(sampleLines(totals))).toEqual(new Set(sampleLines(page)));
  });

  it("the primary's page is the same with polls of running totals as with polls of whole pages: first seen by a poll, through scrapes, a death and a replacement", async () => {
    const [one, two] = [workerRegistry(), workerRegistry()];
    const whole = new PrometheusMerge();
    const totals = new PrometheusMerge();
    const poll = async (i: number, process: number, r: Registry): Promise<void> => {
      whole.observe(i, { process, text: await r.metrics() });
      totals.observe(i, { process, text: await runningTotals([r]) });
    };
    const scrape = async (pages: readonly (readonly [number, Registry] | undefined)[]): Promise<void> => {
      const texts = await Promise.all(pages.map(async (p) => (p === undefined ? undefined : { process: p[0], text: await p[1].metrics() })));
      expect(totals.merge(texts)).toBe(whole.merge(texts));
    };
    // The primary polls before any scrape (its start).
    await poll(0, 1, one.registry);
    await poll(1, 2, two.registry);
    one.count(3);
    two.count(1);
    await scrape([[1, one.registry], [2, two.registry]]);
    one.count(4);
    await poll(0, 1, one.registry);
    // Worker 0 dies before the next scrape: carried from the poll.
    await scrape([undefined, [2, two.registry]]);
    // Its replacement, seen first by a poll, then scraped.
    const three = workerRegistry();
    three.count(2);
    await poll(0, 3, three.registry);
    await scrape([undefined, [2, two.registry]]);
    three.count(1);
    await scrape([[3, three.registry], [2, two.registry]]);
    const text = totals.merge([[3, three.registry], [2, two.registry]].map(() => undefined));
    // 3 + 4 before the death, then 3 more: never back.
    expect(text).toMatch(/^w_admissions_total\{worker="0",gate="plain"\} 20$/m);
  });
});
