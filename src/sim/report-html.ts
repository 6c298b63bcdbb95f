/**
 * The `sluice simulate --html` report: one self-contained file (uPlot and the data inline, no
 * network), a summary table and charts over time — goodput, latency percentiles, the
 * concurrency limit against in flight, refusals by reason, queue depth — with every policy
 * of the run drawn on the same axes.
 */
import { inlineJson, inlineScript } from '../dashboard/uplot-assets.js';
import type { UplotAssets } from '../dashboard/uplot-assets.js';
import type { Scenario } from './scenario.js';
import type { PolicyRun } from './policy-sim.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The chart data, by run: plain arrays (NaN as null, as uPlot takes gaps). */
function chartData(runs: readonly PolicyRun[]): unknown {
  const num = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  return runs.map((r) => {
    const reasons = [...new Set(r.samples.flatMap((s) => Object.keys(s.refused)))].sort();
    return {
      label: r.label,
      t: r.samples.map((s) => s.t),
      goodput: r.samples.map((s) => num(s.goodput)),
      offered: r.samples.map((s) => num(s.offered)),
      p50: r.samples.map((s) => num(s.p50Ms)),
      p95: r.samples.map((s) => num(s.p95Ms)),
      p99: r.samples.map((s) => num(s.p99Ms)),
      limit: r.samples.map((s) => num(s.limit)),
      inFlight: r.samples.map((s) => num(s.inFlight)),
      queued: r.samples.map((s) => num(s.queued)),
      shadow: r.samples.map((s) => num(s.shadowRefused)),
      refused: Object.fromEntries(reasons.map((k) => [k, r.samples.map((s) => num(s.refused[k as keyof typeof s.refused] ?? 0))])),
    };
  });
}

const CLIENT = `
const runs = JSON.parse(document.getElementById('data').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const dashes = [[], [6, 4], [2, 3]];
function chart(id, title, unit, lines) {
  const el = document.getElementById(id);
  const t = runs[0].t;
  const series = [{}].concat(lines.map((l) => ({ label: l.label, stroke: l.color, dash: l.dash, width: 1.5, spanGaps: false })));
  const data = [t].concat(lines.map((l) => l.values));
  new uPlot({ title, width: Math.min(1100, window.innerWidth - 40), height: 260, series, axes: [{ label: 's' }, { label: unit, size: 70 }], scales: { x: { time: false } } }, data, el);
}
const per = (pick, name) => runs.map((r, i) => ({ label: runs.length > 1 ? r.label + ' ' + name : name, values: pick(r), color: colors[i % colors.length] }));
chart('goodput', 'Goodput (answered 2xx within the timeout) and offered load', 'req/s', runs.flatMap((r, i) => [
  { label: r.label + ' goodput', values: r.goodput, color: colors[i % colors.length] },
  { label: r.label + ' offered', values: r.offered, color: colors[i % colors.length], dash: [2, 3] },
]));
chart('latency', 'Latency of answered requests (client-observed)', 'ms', runs.flatMap((r, i) => ['p50', 'p95', 'p99'].map((q, j) => ({ label: r.label + ' ' + q, values: r[q], color: colors[i % colors.length], dash: dashes[j] }))));
chart('limit', 'Concurrency limit and in flight', 'requests', runs.flatMap((r, i) => [
  { label: r.label + ' limit', values: r.limit, color: colors[i % colors.length] },
  { label: r.label + ' in flight', values: r.inFlight, color: colors[i % colors.length], dash: [2, 3] },
]));
chart('refused', 'Refusals by reason', 'req/s', runs.flatMap((r, i) => Object.entries(r.refused).map(([k, v], j) => ({ label: r.label + ' ' + k, values: v, color: colors[(i * 3 + j) % colors.length], dash: dashes[i % dashes.length] }))
  .concat(r.shadow.some((v) => v > 0) ? [{ label: r.label + ' shadow (would refuse)', values: r.shadow, color: '#7f7f7f', dash: [4, 4] }] : [])));
chart('queue', 'Queue depth', 'waiting', per((r) => r.queued, 'queued'));
`;

/** What each run left out (`shed`, a `store:`), said where the figures are read, not only on stderr. */
function notesHtml(runs: readonly PolicyRun[]): string {
  const items = runs.flatMap((r) => r.notes.map((n) => `<li>${escape(r.label)}: ${escape(n)}</li>`));
  return items.length === 0 ? '' : `<p>Not simulated:</p>\n<ul class="notes">\n${items.join('\n')}\n</ul>\n`;
}

export function reportHtml(scenario: Scenario, runs: readonly PolicyRun[], table: string, uplot: UplotAssets): string {
  const title = `sluice simulate — ${scenario.name}: ${runs.map((r) => r.label).join(' vs ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>${uplot.css}
body { font: 14px system-ui, sans-serif; margin: 20px; color: #222; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; }
.chart { margin: 18px 0; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p>${(scenario.durationMs / 1000).toFixed(0)} s simulated on the virtual clock; upstream: ${scenario.capacity} at once, ${scenario.latencyMs} ms each; sample ${scenario.sampleMs} ms; seed ${scenario.seed}.</p>
${notesHtml(runs)}<pre>${escape(table)}</pre>
<div class="chart" id="goodput"></div>
<div class="chart" id="latency"></div>
<div class="chart" id="limit"></div>
<div class="chart" id="refused"></div>
<div class="chart" id="queue"></div>
<script id="data" type="application/json">${inlineJson(chartData(runs))}</script>
<script>${inlineScript(uplot.js)}</script>
<script>${inlineScript(CLIENT)}</script>
</body>
</html>
`;
}
