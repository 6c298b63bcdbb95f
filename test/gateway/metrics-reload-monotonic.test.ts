// A Prometheus counter never goes down while the process lives: a reload that rebuilds a
// policy (its gates replaced by new ones of the same names) must leave every counter series —
// and every histogram's _count, _sum and _bucket — at least where the scrape before it saw it.
// rate() reads a drop as a counter reset and invents a burst of whatever the counter was.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, sluice, startInProcess, tempDir, upstream, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';

afterEach(cleanup);

/** Every sample of a counter or histogram family: `name{labels}` -> value. */
function monotonicSamples(text: string): Map<string, number> {
  const kinds = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) kinds.set(m[1]!, m[2]!);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const series = line.slice(0, line.lastIndexOf(' '));
    const name = series.split('{')[0]!;
    const family = kinds.has(name) ? name : name.replace(/_(bucket|count|sum)$/, '');
    const kind = kinds.get(family);
    if (kind !== 'counter' && kind !== 'histogram') continue;
    // The process's own CPU seconds only grow too, but they are prom-client's, not ours.
    if (!name.startsWith('sluice_')) continue;
    out.set(series, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function config(up: string, limit: number): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    upstreams: { app: { url: up, timeout: '5s' } },
    policies: {
      api: {
        tenant: { header: 'x-api-key' },
        rateLimits: [{ name: 'burst', rate: '1/min', burst: 6 }],
        breaker: { failures: 50, openFor: '10s' },
        concurrency: { limit, queue: 2, queueTimeout: '2s' },
      },
      bulk: { concurrency: { limit: 'adaptive', algorithm: 'aimd', maxLimit: 50 } },
    },
    routes: [
      { name: 'api', path: '/api', policy: 'api', fault: { abort: { status: 503, percent: 20 } } },
      { name: 'bulk', path: '/bulk', policy: 'bulk' },
    ],
    log: { level: 'silent' },
  } as GatewayConfig;
}

describe('/metrics across a reload', () => {
  it('no counter or histogram series is lower after a reload that changes a limit than before it', async () => {
    const up = await upstream((req, res) => {
      res.statusCode = req.url?.includes('fail') === true ? 500 : 200;
      res.end('ok');
    });
    const gw = await startInProcess(config(up.url, 4));
    // Admissions, upstream failures, rate refusals (tenant k1 spends its burst), latencies.
    for (let i = 0; i < 10; i++) await get(`${gw.url}/api/${i % 3 === 0 ? 'fail' : 'x'}`, { headers: { 'x-api-key': 'k1' } });
    for (let i = 0; i < 5; i++) await get(`${gw.url}/bulk/${i}`);
    await get(`${gw.url}/%zz`); // a bad request
    const before = monotonicSamples((await gw.metrics())!);
    expect(before.size).toBeGreaterThan(20);

    // Both policies rebuilt: api's concurrency limit, bulk's ceiling.
    const next = config(up.url, 3);
    (next.policies!['bulk'] as { concurrency: { maxLimit: number } }).concurrency.maxLimit = 40;
    await gw.reload(next);
    const after = monotonicSamples((await gw.metrics())!);
    const lower = [...before].filter(([series, v]) => !((after.get(series) ?? -1) >= v)).map(([series, v]) => `${series}: ${v} -> ${after.get(series) ?? 'missing'}`);
    expect(lower).toEqual([]);

    // And it goes on counting from there.
    for (let i = 0; i < 3; i++) await get(`${gw.url}/bulk/${i}`);
    const later = monotonicSamples((await gw.metrics())!);
    const lowerLater = [...after].filter(([series, v]) => !((later.get(series) ?? -1) >= v)).map(([series, v]) => `${series}: ${v} -> ${later.get(series) ?? 'missing'}`);
    expect(lowerLater).toEqual([]);
  });
});

describe('/metrics across a reload, server.workers 2 (the primary merges its workers’ series)', () => {
  it('no counter or histogram series is lower after SIGHUP with a changed limit', async () => {
    const up = await upstream((req, res) => {
      res.statusCode = req.url?.includes('fail') === true ? 500 : 200;
      res.end('ok');
    });
    const file = join(tempDir(), 'sluice.yaml');
    // JSON is YAML: the in-process test's config, in a file, with two workers.
    const yaml = (limit: number): string => JSON.stringify({ ...config(up.url, limit), server: { workers: 2 }, log: { level: 'info' } });
    writeFileSync(file, yaml(4));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const url = String(l['url']);
    const adminUrl = String(l['adminUrl']);
    for (let i = 0; i < 12; i++) await get(`${url}/api/${i % 3 === 0 ? 'fail' : 'x'}`, { headers: { 'x-api-key': 'k1' } });
    await get(`${url}/%zz`);
    const before = monotonicSamples((await get(`${adminUrl}/metrics`)).body);
    expect(before.size).toBeGreaterThan(10);
    const from = gw.lines.length;
    writeFileSync(file, yaml(3));
    gw.child.kill('SIGHUP');
    expect(await within(WORKERS_START_MS, () => gw.lines.slice(from).some((x) => x.includes('"msg":"reloaded"') && x.includes('"workers":2')))).toBe(true);
    const after = monotonicSamples((await get(`${adminUrl}/metrics`)).body);
    const lower = [...before].filter(([series, v]) => !((after.get(series) ?? -1) >= v)).map(([series, v]) => `${series}: ${v} -> ${after.get(series) ?? 'missing'}`);
    expect(lower).toEqual([]);
  }, WORKERS_TEST_MS);
});
