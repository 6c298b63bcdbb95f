// The Prometheus rules and Grafana dashboards in docs/ops: promtool accepts the rules and
// their unit tests pass, and every metric they name is one a real gateway exports on /metrics
// (or a recording rule the rules file defines).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BREAKER_STATES } from '../../src/breaker/index.js';
import { INSTRUMENTS } from '../../src/metrics/index.js';
import { GATEWAY_METRIC_NAMES } from '../../src/gateway/gateway-metrics.js';
import { cleanup, get, root, startInProcess, upstream } from '../gateway/helpers.js';

afterEach(cleanup);

const ops = join(root, 'docs/ops');
const rulesFile = join(ops, 'prometheus/sluice-rules.yml');
const dashboards = readdirSync(join(ops, 'grafana')).filter((f) => f.endsWith('.json'));

function promtool(): string | undefined {
  for (const p of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(p)) return p;
  return spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined;
}
const tool = promtool();
if (tool === undefined && process.env['CI'] !== 'true') {
  console.warn('!!! SKIPPING promtool checks: promtool is not installed (apt-get install -y prometheus) !!!');
}

/** Metric names in PromQL text: sluice series, recording rules, and the process/Node.js series prom-client exports. */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\b(sluice:[a-z0-9_:]+|sluice_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

function dashboardExprs(file: string): string[] {
  const d = JSON.parse(readFileSync(join(ops, 'grafana', file), 'utf8')) as { panels: { targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };
  return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...d.templating.list.map((v) => (typeof v.query === 'string' ? v.query : ''))];
}

describe.skipIf(tool === undefined && process.env['CI'] !== 'true')('promtool', { timeout: 120_000 }, () => {
  it('is installed (CI installs the prometheus package)', () => {
    expect(tool, 'promtool missing: apt-get install -y prometheus').toBeDefined();
  });

  it('checks the rules file', () => {
    const out = execFileSync(tool!, ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes the rules unit tests (each alert fires on its series, and not on calm ones)', () => {
    const r = spawnSync(tool!, ['test', 'rules', 'sluice-rules.test.yml'], { cwd: join(ops, 'prometheus'), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('names in rules and dashboards', () => {
  it('every metric named is exported by a gateway with every feature on, or recorded by the rules', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { port: 0 },
      upstreams: { app: { url: up.url } },
      policies: {
        full: {
          rateLimits: [{ rate: '1000/s' }],
          concurrency: { limit: 'adaptive', queue: 10, queueTimeout: '1s' },
          breaker: { failures: 5 },
          // A shedder on, its thresholds out of a busy host's reach: at load 30 on 2 cores, 50 ms shed every request (503 overloaded).
          shed: { slowAt: '5s', rejectAt: '10s' },
        },
        trial: { rateLimits: [{ rate: '1/s', burst: 1 }], mode: 'shadow' },
      },
      routes: [
        { path: '/trial', policy: 'trial', fault: { abort: { status: 503, percent: 10 } } },
        { path: '/', policy: 'full' },
      ],
    });
    for (let i = 0; i < 3; i++) expect((await get(`${gw.url}/x`)).status).toBe(200);
    const scrape = await get(`${gw.adminUrl}/metrics`);
    expect(scrape.status).toBe(200);
    const exported = new Set<string>();
    for (const m of scrape.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(`${m[1]}${s}`);
    }
    // Everything the code declares is on the page (a scrape of a gateway with every feature).
    for (const spec of Object.values(INSTRUMENTS)) expect(exported, spec.prometheus).toContain(spec.prometheus);
    for (const name of GATEWAY_METRIC_NAMES) expect(exported, name).toContain(name);
    // The rules leave out a shadow policy's rejections by this series (its gates count what they would refuse).
    expect(scrape.body).toMatch(/^sluice_gate_info\{gate="trial-default",policy="trial",mode="shadow"\} 1$/m);
    expect(scrape.body).toMatch(/^sluice_gate_info\{gate="full-concurrency",policy="full",mode="enforce"\} 1$/m);

    const rulesText = readFileSync(rulesFile, 'utf8');
    const recorded = new Set([...rulesText.matchAll(/- record: (\S+)/g)].map((m) => m[1]!));
    expect(recorded.size).toBeGreaterThan(3);
    const named = new Map<string, string>();
    for (const n of metricNames(rulesText)) named.set(n, 'sluice-rules.yml');
    for (const f of dashboards) for (const e of dashboardExprs(f)) for (const n of metricNames(e)) named.set(n, f);
    expect(named.size).toBeGreaterThan(20);
    const unknown = [...named].filter(([n]) => !(n.includes(':') ? recorded.has(n) : exported.has(n)));
    expect(unknown).toEqual([]);
  });

  it('every breaker state named in rules and dashboards is one a breaker has: the on-call panel asked for state="half_open" and drew nothing (ops-sim)', () => {
    const texts = [readFileSync(rulesFile, 'utf8'), ...dashboards.flatMap(dashboardExprs)];
    const named = texts.flatMap((t) => [...t.matchAll(/sluice_breaker_(?:state|transitions_total)\{[^}]*\b(?:state|to)=~?"([^"]+)"/g)].flatMap((m) => m[1]!.split('|')));
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((s) => !(BREAKER_STATES as readonly string[]).includes(s))).toEqual([]);
  });

  it('the three dashboards exist, each with panels, and docs/metrics.md names every instrument in both conventions', () => {
    expect(dashboards.sort()).toEqual(['sluice-debug.json', 'sluice-executive.json', 'sluice-on-call.json']);
    for (const f of dashboards) expect(dashboardExprs(f).length).toBeGreaterThan(5);
    const doc = readFileSync(join(root, 'docs/metrics.md'), 'utf8');
    for (const spec of Object.values(INSTRUMENTS)) {
      expect(doc, spec.prometheus).toContain(`\`${spec.prometheus}\``);
      expect(doc, spec.otel).toContain(`\`${spec.otel}\``);
    }
    for (const m of ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8', 'M9', 'M10']) expect(doc).toContain(`| ${m} `);
  });

  it('a deprecated name is documented with its replacement, and named nowhere without it: not in docs/metrics.md, the rules or the dashboards', () => {
    const deprecated = Object.values(INSTRUMENTS).flatMap((spec) => (spec.deprecatedGauge === undefined ? [] : [[spec.deprecatedGauge, spec.prometheus] as const]));
    expect(deprecated.length).toBeGreaterThan(5);
    const doc = readFileSync(join(root, 'docs/metrics.md'), 'utf8');
    for (const [old, use] of deprecated) expect(doc, old).toContain(`| \`${old}\` | \`${use}\` |`);
    // Before: the M6 row named `sluice_retry_refused` (deprecated) as the retry measurement.
    const alone = doc.split('\n').flatMap((line) => deprecated.filter(([old, use]) => line.includes(`\`${old}\``) && !line.includes(`\`${use}\``)).map(([old]) => `${old}: ${line.slice(0, 60)}`));
    expect(alone).toEqual([]);
    const texts = [readFileSync(rulesFile, 'utf8'), ...dashboards.flatMap(dashboardExprs)];
    const named = new Set(texts.flatMap(metricNames));
    expect(deprecated.map(([old]) => old).filter((old) => named.has(old))).toEqual([]);
  });
});
