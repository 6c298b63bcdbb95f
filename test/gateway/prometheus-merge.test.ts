// The primary's merge of its workers' /metrics pages (src/gateway/prometheus-merge.ts), page by
// page: what a worker's death, a stopped worker and two scrapes crossing a fork do to the series.
import { describe, expect, it } from 'vitest';
import { MetricsUnansweredError, PrometheusMerge } from '../../src/gateway/prometheus-merge.js';

const page = (admitted: number, inFlight: number, extra = ''): string => `# HELP a_total Admissions.
# TYPE a_total counter
a_total{gate="g"} ${admitted}
# HELP h_seconds Latency.
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} ${admitted}
h_seconds_bucket{le="+Inf"} ${admitted}
h_seconds_sum ${admitted / 10}
h_seconds_count ${admitted}
# HELP q Quantiles.
# TYPE q summary
q{quantile="0.5"} ${inFlight}
q_sum ${admitted}
q_count ${admitted}
# HELP f In flight.
# TYPE f gauge
f{gate="g"} ${inFlight}
${extra}`;

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('PrometheusMerge', () => {
  it('labels every sample with its worker; each HELP and TYPE once', () => {
    const m = new PrometheusMerge();
    const text = m.merge([{ process: 1, text: page(3, 1) }, { process: 2, text: page(4, 0) }]);
    expect(text.split('\n').filter((l) => l === '# TYPE a_total counter')).toHaveLength(1);
    expect(lines(text)).toContain('a_total{worker="0",gate="g"} 3');
    expect(lines(text)).toContain('a_total{worker="1",gate="g"} 4');
    expect(lines(text)).toContain('h_seconds_sum{worker="1"} 0.4');
    expect(lines(text)).toContain('f{worker="0",gate="g"} 1');
    expect(lines(text)).toContain('q{worker="0",quantile="0.5"} 1');
  });

  it('a worker forked again goes on from what the dead one showed; a stopped or dead one keeps its counters, not its levels', () => {
    const m = new PrometheusMerge();
    m.merge([{ process: 1, text: page(3, 1) }, { process: 2, text: page(4, 2) }]);
    // Worker 0 died (no answer): its counters as last seen, its gauge gone, its summary's quantile too.
    const gap = lines(m.merge([undefined, { process: 2, text: page(5, 0) }]));
    expect(gap).toContain('a_total{worker="0",gate="g"} 3');
    expect(gap).toContain('h_seconds_bucket{worker="0",le="+Inf"} 3');
    expect(gap).toContain('q_count{worker="0"} 3');
    expect(gap.filter((l) => l.startsWith('f{worker="0"'))).toEqual([]);
    expect(gap.filter((l) => l.startsWith('q{worker="0"'))).toEqual([]);
    // Its replacement (process 3) counted 2: shown 5, the histogram's buckets and sum alike.
    const after = lines(m.merge([{ process: 3, text: page(2, 0) }, { process: 2, text: page(5, 0) }]));
    expect(after).toContain('a_total{worker="0",gate="g"} 5');
    expect(after).toContain('h_seconds_bucket{worker="0",le="0.1"} 5');
    expect(after).toContain('h_seconds_count{worker="0"} 5');
    expect(after).toContain('h_seconds_sum{worker="0"} 0.5');
    expect(after).toContain('f{worker="0",gate="g"} 0');
    // A second death: both earlier processes carried.
    expect(lines(m.merge([{ process: 4, text: page(1, 0) }, undefined]))).toContain('a_total{worker="0",gate="g"} 6');
  });

  it('a series the new process does not have yet is shown at the carried value; a page older than the place’s process is not taken', () => {
    const m = new PrometheusMerge();
    m.merge([{ process: 1, text: page(3, 0, '# HELP r_total Refusals.\n# TYPE r_total counter\nr_total{reason="x"} 7\n') }]);
    const next = m.merge([{ process: 2, text: page(1, 0) }]);
    expect(lines(next)).toContain('r_total{worker="0",reason="x"} 7');
    expect(next).toContain('# TYPE r_total counter\nr_total{worker="0",reason="x"} 7');
    // Two scrapes crossed the fork: the old process's answer is read after the new one's.
    expect(lines(m.merge([{ process: 1, text: page(4, 0) }]))).toContain('a_total{worker="0",gate="g"} 4');
    // Scrapes crossing within one process: never lower than shown.
    m.merge([{ process: 2, text: page(5, 0) }]);
    expect(lines(m.merge([{ process: 2, text: page(2, 0) }]))).toContain('a_total{worker="0",gate="g"} 8');
  });

  it('a page observed between scrapes (the status poll) is carried when its worker dies before the next scrape; its levels are not shown', () => {
    const m = new PrometheusMerge();
    m.merge([{ process: 1, text: page(3, 1) }, { process: 2, text: page(4, 0) }]);
    // Worker 0 counted 9 by the last poll, and died before the next scrape.
    m.observe(0, { process: 1, text: page(9, 5) });
    const gap = lines(m.merge([undefined, { process: 2, text: page(4, 0) }]));
    // Before: 3, what it showed at the last scrape.
    expect(gap).toContain('a_total{worker="0",gate="g"} 9');
    expect(gap).toContain('h_seconds_count{worker="0"} 9');
    expect(gap.filter((l) => l.startsWith('f{worker="0"'))).toEqual([]);
    // Its replacement, seen first by a poll: carried on from 9.
    m.observe(0, { process: 3, text: page(1, 0) });
    expect(lines(m.merge([undefined, { process: 2, text: page(4, 0) }]))).toContain('a_total{worker="0",gate="g"} 10');
    // A poll's page of the dead process, read late, is not taken.
    m.observe(0, { process: 1, text: page(20, 0) });
    expect(lines(m.merge([{ process: 3, text: page(2, 0) }, undefined]))).toContain('a_total{worker="0",gate="g"} 11');
  });

  it('a page observed by a poll alone is no page to serve: a scrape nobody answers is MetricsUnansweredError until one does', async () => {
    const m = new PrometheusMerge();
    m.observe(0, { process: 1, text: page(2, 0) });
    expect(m.seen).toBe(false);
    await expect(m.scrape([{ process: 1, ask: () => Promise.reject(new Error('timeout')) }], 1000, () => new Map())).rejects.toThrow(MetricsUnansweredError);
    // The first scrape a worker answers (its replacement): what the poll saw is carried.
    expect(await m.scrape([{ process: 2, ask: () => Promise.resolve(page(1, 0)) }], 1000, () => new Map())).toMatch(/^a_total\{worker="0",gate="g"\} 3$/m);
  });

  it('a label list that is empty, or a value with ",}" in it, stays as it was; own families stand in for the workers’', () => {
    const m = new PrometheusMerge();
    const text = `# HELP x_total X.\n# TYPE x_total counter\nx_total{} 1\nx_total{route="a,}"} 2\n# HELP d_total Pages.\n# TYPE d_total counter\nd_total{outcome="dropped"} 0\n`;
    const merged = m.merge([{ process: 1, text }], new Map([['d_total', ['d_total{outcome="dropped"} 4']]]));
    expect(lines(merged)).toEqual(['x_total{worker="0"} 1', 'x_total{worker="0",route="a,}"} 2', 'd_total{outcome="dropped"} 4']);
    expect(m.seen).toBe(true);
    expect(new PrometheusMerge().seen).toBe(false);
  });
});

describe('PrometheusMerge.scrape: every worker asked, the answers merged', () => {
  const own = (): ReadonlyMap<string, readonly string[]> => new Map();
  it('rejects with MetricsUnansweredError while no worker has ever answered, then serves the last counters once one did', async () => {
    const m = new PrometheusMerge();
    const none = [{ process: 1, ask: () => Promise.reject(new Error('timeout')) }];
    await expect(m.scrape(none, 1000, own)).rejects.toThrow(MetricsUnansweredError);
    await expect(m.scrape(none, 1000, own)).rejects.toThrow('no worker answered the metrics scrape within 1000 ms (1 asked; none has answered one yet)');
    expect(await m.scrape([{ process: 1, ask: () => Promise.resolve(page(3, 1)) }], 1000, own)).toMatch(/^a_total\{worker="0",gate="g"\} 3$/m);
    // Answered once: a scrape nobody answers serves the counters as last seen, not an error.
    expect(await m.scrape(none, 1000, own)).toMatch(/^a_total\{worker="0",gate="g"\} 3$/m);
  });

  it('is undefined when the workers answer without a page (no prom-client), and reads own() after the answers', async () => {
    const m = new PrometheusMerge();
    expect(await m.scrape([{ process: 1, ask: () => Promise.resolve(undefined) }], 1000, own)).toBeUndefined();
    let count = 0;
    const asks = [{ process: 1, ask: () => Promise.resolve(page(1, 0)).then((t) => ((count = 7), t)) }];
    const text = await m.scrape(asks, 1000, () => new Map([['a_total', [`a_total ${count}`]]]));
    expect(text).toMatch(/^a_total 7$/m);
    expect(text).not.toMatch(/^a_total\{worker=/m);
  });
});
