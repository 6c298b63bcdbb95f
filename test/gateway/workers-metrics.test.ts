// `sluice gateway` with 2 workers: the primary's /metrics is the workers' pages merged. Each
// family's HELP and TYPE once, every sample under `worker`; summed over `worker`, a counter or a
// histogram counts every request whichever worker took it; promtool finds nothing to say. And a
// worker killed and forked again takes no count back: its counters carry on from what the dead
// process showed (before: the dead worker's series went from the page, then came back from 0).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrimaryStatus } from '../../src/gateway/primary.js';
import { families, promtoolCheck, promtoolPath } from '../metrics/exposition.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, metricSample, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

/** Routes under a policy with a rate limit, a daily quota, a breaker and a concurrency limit; one under a shedder. */
const config = (up: string): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { workers: 2 }
upstreams:
  app: { url: ${up} }
policies:
  api:
    tenant: { header: x-api-key }
    rateLimits:
      - { name: burst, rate: 2000/s, burst: 100 }
      - { name: daily, limit: 1000000, window: 1d, quota: true }
    breaker: { failures: 5, openFor: 10s }
    concurrency: { limit: 20, queue: 20, queueTimeout: 5s }
  batch:
    concurrency: 10
    shed: { slowAt: 2s, rejectAt: 5s }
routes:
  - { name: reads, path: /api, policy: api }
  - { name: reports, path: /reports, policy: batch }
`;

/** Each worker's value of `family` (summed over its other labels), by worker label. */
function perWorker(text: string, family: string, labels: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of ['0', '1']) {
    const v = metricSample(text, family, { ...labels, worker: w });
    if (v !== undefined) out[w] = v;
  }
  return out;
}

/** The checks every merged page must pass: one HELP and one TYPE per family, and promtool's lint. */
function wellFormed(text: string): void {
  const meta = text.split('\n').filter((l) => l.startsWith('# '));
  expect(meta.length).toBeGreaterThan(0);
  expect(new Set(meta).size).toBe(meta.length);
  const heads = meta.map((l) => l.split(' ').slice(0, 3).join(' '));
  expect(heads.filter((h, i) => heads.indexOf(h) !== i)).toEqual([]);
  if (promtoolPath() === null) {
    console.warn('[workers-metrics] SKIPPED promtool check metrics: promtool is not installed (Debian: apt-get install prometheus)');
    return;
  }
  expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
}

describe('sluice gateway --workers 2: /metrics', () => {
  it('merges the workers: counters and histograms summed over `worker` count every request, gauges per worker; a killed worker takes no count back', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, config(up.url));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const [url, adminUrl] = [String(l['url']), String(l['adminUrl'])];
    const status = async (): Promise<PrimaryStatus> => JSON.parse((await get(`${adminUrl}/status`)).body) as PrimaryStatus;
    const scrape = async (): Promise<string> => {
      const r = await get(`${adminUrl}/metrics`);
      expect(r.status).toBe(200);
      return r.body;
    };
    const gate = { gate: 'api-concurrency' };

    // One connection per request: the kernel spreads them over both workers (until each took some).
    let sent = 0;
    const send = async (): Promise<void> => {
      expect((await get(`${url}/api/x`, { headers: { 'x-api-key': `k${sent % 3}` } })).status).toBe(200);
      sent++;
    };
    for (let i = 0; i < 30; i++) await send();
    expect(await within(60_000, async () => (await send(), (await status()).workers.every((w) => (w.status?.counters.requests ?? 0) > 0)), 10)).toBe(true);
    for (let i = 0; i < 4; i++) expect((await get(`${url}/reports/r`)).status).toBe(200);

    const first = await scrape();
    wellFormed(first);
    expect(metricSample(first, 'sluice_admissions_total', gate)).toBe(sent);
    expect(metricSample(first, 'sluice_admissions_total', { gate: 'api-daily' })).toBe(sent);
    expect(metricSample(first, 'sluice_releases_total', gate)).toBe(sent);
    expect(metricSample(first, 'sluice_admissions_total', { gate: 'batch-concurrency' })).toBe(4);
    // Histograms: each worker's own buckets; summed, the count and the +Inf bucket are every request.
    expect(metricSample(first, 'sluice_latency_seconds_count', gate)).toBe(sent);
    expect(metricSample(first, 'sluice_latency_seconds_bucket', { ...gate, le: '+Inf' })).toBe(sent);
    const counts = perWorker(first, 'sluice_admissions_total', gate);
    expect(Object.keys(counts)).toEqual(['0', '1']);
    expect(perWorker(first, 'sluice_latency_seconds_count', gate)).toEqual(counts);
    // Gauges: one series per worker (sluice_limit is each worker's local gate, documented).
    expect(Object.keys(perWorker(first, 'sluice_in_flight', gate))).toEqual(['0', '1']);
    expect(families(first).get('sluice_admissions_total')?.type).toBe('counter');

    // Kill the worker that served more; its replacement is slow to come (a busy host): scrape meanwhile.
    const before = await status();
    const victim = [...before.workers].sort((a, b) => (b.status?.counters.requests ?? 0) - (a.status?.counters.requests ?? 0))[0]!;
    const w = String(victim.index);
    const from = gw.lines.length;
    process.kill(victim.pid, 'SIGKILL');
    await gw.waitFor('worker died: its slots are back; forking a new one', 30_000, from);
    const gap = await scrape();
    wellFormed(gap);
    // Before: the dead worker's series were gone from the page (its admissions no more in the sum).
    expect(metricSample(gap, 'sluice_admissions_total', gate)).toBe(sent);
    expect(perWorker(gap, 'sluice_admissions_total', gate)[w]).toBe(counts[w]);
    // A level of a process that is gone is not shown.
    expect(perWorker(gap, 'sluice_in_flight', gate)[w]).toBeUndefined();

    // The replacement serves: its counts add to the dead worker's.
    expect(await within(90_000, async () => (await status()).workers[victim.index]!.pid !== victim.pid && (await status()).workers[victim.index]!.status !== undefined, 200)).toBe(true);
    const earlier = sent;
    expect(await within(60_000, async () => (await send(), (await status()).workers[victim.index]!.status!.counters.requests > 0), 10)).toBe(true);
    const after = await scrape();
    wellFormed(after);
    // Before: 'sluice_admissions_total' summed to the survivor's count plus the new process's only.
    expect(metricSample(after, 'sluice_admissions_total', gate)).toBe(sent);
    expect(metricSample(after, 'sluice_latency_seconds_count', gate)).toBe(sent);
    expect(metricSample(after, 'sluice_latency_seconds_bucket', { ...gate, le: '+Inf' })).toBe(sent);
    const now = perWorker(after, 'sluice_admissions_total', gate);
    expect(now[w]).toBeGreaterThan(counts[w]!);
    expect(now[w]! + now[String(1 - victim.index)]!).toBe(sent);
    expect(sent).toBeGreaterThan(earlier);
    // Every counter series of the page before the kill is there, and not lower.
    const was = families(first);
    const is = families(after);
    const lower: string[] = [];
    for (const [name, f] of was) {
      if (f.type !== 'counter' && f.type !== 'histogram') continue;
      for (const [series, v] of f.samples) {
        const n = is.get(name)?.samples.get(series);
        if (n === undefined || n < v) lower.push(`${series}: ${v} -> ${String(n)}`);
      }
    }
    expect(lower).toEqual([]);
    expect(perWorker(after, 'sluice_in_flight', gate)[w]).toBe(0);
  }, WORKERS_TEST_MS);
});
