/**
 * What the primary's once-a-second status poll costs a worker (`--workers N`, admin on): the
 * worker answers with its status, its dashboard sample and (since d3f90f3) its Prometheus
 * page — whole until metricspush, its running totals alone since (running-totals.ts). This measures the CPU of each part in one gateway process (a worker runs the
 * same gateway), with `--policies` policies (rate limit by tenant, breaker, concurrency with a
 * queue) each behind its own route, after `--keys` tenants sent requests to every route, so
 * every gate's counters and latency histograms have series.
 *
 *   npx tsx bench/metrics-poll-cost.ts [--policies 50] [--keys 20] [--calls 200] [--save LABEL]
 *
 * The primary's side too: reading one worker's page for its running totals.
 * Prints per call: CPU ms (user+system of this process, median and p90 of `--calls`), the page's
 * size, and what one call a second is as a share of one core. `--save LABEL` writes
 * bench/results/metrics-poll-cost-<commit>-<LABEL>.md.
 */
import { execSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGateway } from '../src/gateway/index.js';
import { PrometheusMerge } from '../src/gateway/prometheus-merge.js';
import type { GatewayConfig } from '../src/gateway/index.js';
import { gitRevision, machineInfo } from './lib/machine.js';

const { values } = parseArgs({ options: { policies: { type: 'string', default: '50' }, keys: { type: 'string', default: '20' }, calls: { type: 'string', default: '200' }, save: { type: 'string' } } });
const policies = Number(values.policies);
const keys = Number(values.keys);
const calls = Number(values.calls);

const up = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
const upUrl = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;

const names = Array.from({ length: policies }, (_x, i) => `p${i}`);
const config = {
  listen: { host: '127.0.0.1', port: 0 },
  admin: { port: 0 },
  upstreams: { app: { url: upUrl, timeout: '5s' } },
  policies: Object.fromEntries(names.map((n) => [n, { tenant: { header: 'x-key' }, rateLimits: [{ name: 'r', rate: '1000/s', burst: 100 }], breaker: { failures: 50, openFor: '10s' }, concurrency: { limit: 20, queue: 10, queueTimeout: '1s' } }])),
  routes: names.map((n) => ({ name: n, path: `/${n}`, policy: n })),
  log: { level: 'silent' },
} as GatewayConfig;
// A worker is handed how to render its running totals alone (what the poll asks since metricspush).
let totals: (() => Promise<string>) | undefined;
const gw = await startGateway(config, { runningTotals: (render) => (totals = render) });

// Every route, every tenant: each gate's counters and histograms have their series.
for (let k = 0; k < keys; k++) {
  await Promise.all(
    names.map(async (n) => {
      const r = await fetch(`${gw.url}/${n}`, { headers: { 'x-key': `k${k}` } });
      await r.text();
    }),
  );
}

const samples = (text: string): number => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

async function measure(f: () => unknown): Promise<{ median: number; p90: number }> {
  for (let i = 0; i < 10; i++) await f(); // warm
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = process.cpuUsage();
    await f();
    const d = process.cpuUsage(t);
    ms.push((d.user + d.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, p90: ms[Math.floor(ms.length * 0.9)]! };
}

const page = (await gw.metrics()) ?? '';
const totalsPage = (await totals?.()) ?? '';
const merge = new PrometheusMerge();
const parts = {
  'metrics() — the Prometheus page (the poll until metricspush)': await measure(() => gw.metrics()),
  'running totals alone (the poll since metricspush)': await measure(() => totals?.()),
  'status()': await measure(() => gw.status()),
  'dashboard()': await measure(() => gw.dashboard()),
  'status() + dashboard() + structured clone': await measure(() => structuredClone({ status: gw.status(), dashboard: gw.dashboard() })),
  // The primary's side, per worker polled: the page read for its running totals (prometheus-merge.ts).
  'primary: PrometheusMerge.observe(page)': await measure(() => merge.observe(0, { process: 1, text: page })),
  'primary: PrometheusMerge.observe(running totals)': await measure(() => merge.observe(0, { process: 1, text: totalsPage })),
};
await gw.close();
up.close();

const m = machineInfo();
const commit = gitRevision((cmd) => execSync(cmd, { encoding: 'utf8' }));
const lines = [
  `# What the status poll costs a worker: ${policies} policies, ${keys} tenants each`,
  '',
  `commit ${commit}, ${m.cpu} × ${m.cores}, node ${m.node}, load ${m.loadAverage.join(' ')} at the start`,
  `command: npx tsx bench/metrics-poll-cost.ts --policies ${policies} --keys ${keys} --calls ${calls}`,
  `page: ${page.length} bytes, ${samples(page)} samples; running totals: ${totalsPage.length} bytes, ${samples(totalsPage)} samples`,
  '',
  '| call | CPU ms median | CPU ms p90 | share of a core at 1/s (median) |',
  '|---|---|---|---|',
  ...Object.entries(parts).map(([k, v]) => `| ${k} | ${v.median.toFixed(2)} | ${v.p90.toFixed(2)} | ${((v.median / 1000) * 100).toFixed(2)} % |`),
];
console.log(lines.join('\n'));
if (values.save !== undefined) {
  const file = `bench/results/metrics-poll-cost-${commit.replace(/\+dirty$/, '')}-${values.save}.md`;
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(`saved ${file}`);
}
