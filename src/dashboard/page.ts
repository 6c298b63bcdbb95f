/**
 * The dashboard page: one HTML document, its script inline, uPlot loaded from this server
 * (`${base}/uplot.js`), live through an EventSource on `${base}/events`. Each figure carries
 * `data-group` and `data-figure` so a test (or a user's script) can read it.
 */
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const CLIENT = String.raw`
const base = document.body.dataset.base;
const groups = new Map();
const colors = { admitted: '#2ca02c', rate_limited: '#ff7f0e', quota: '#bcbd22', concurrency: '#d62728', queue_full: '#9467bd', queue_timeout: '#8c564b', circuit_open: '#e377c2', shed: '#7f7f7f', overloaded: '#17becf', keys_full: '#aec7e8', store_unavailable: '#c5b0d5', closed: '#000' };
const fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

function card(name) {
  const el = document.createElement('section');
  el.className = 'group';
  el.dataset.group = name;
  el.innerHTML = '<h2></h2><div class="badges"></div><div class="figures"></div><div class="charts"></div><div class="side"><div class="signals"></div><table class="tenants"><caption>Top tenants by refusals</caption><tbody></tbody></table></div>';
  el.querySelector('h2').textContent = name;
  document.getElementById('groups').append(el);
  const charts = el.querySelector('.charts');
  const g = { el, t: [], series: {}, plots: {}, keys: '' };
  for (const id of ['rates', 'limit', 'queue', 'latency']) {
    const d = document.createElement('div');
    d.className = 'chart';
    d.dataset.chart = id;
    charts.append(d);
  }
  groups.set(name, g);
  return g;
}

const FIGURES = [
  ['admittedPerSec', 'admitted/s', (s) => fmt(s.admittedPerSec, 1)],
  ['refusedPerSec', 'refused/s', (s) => fmt(sum(s.refusedPerSec), 1)],
  ['shadowPerSec', 'would refuse/s (shadow)', (s) => fmt(sum(s.shadowPerSec), 1)],
  ['inFlight', 'in flight', (s) => fmt(s.inFlight)],
  ['limit', 'limit', (s) => fmt(s.limit)],
  ['queued', 'queued', (s) => fmt(s.queued)],
  ['wait', 'queue wait p50 / p99 ms', (s) => fmt(s.waitP50Ms, 1) + ' / ' + fmt(s.waitP99Ms, 1)],
  ['latency', 'latency p50 / p99 ms', (s) => fmt(s.latencyP50Ms, 1) + ' / ' + fmt(s.latencyP99Ms, 1)],
  ['admitted', 'admitted (total)', (s) => String(s.admitted)],
  ['refused', 'refused (total)', (s) => String(sum(s.refused))],
];

function push(g, t, s) {
  g.t.push(t / 1000);
  const add = (k, v) => {
    if (!g.series[k]) g.series[k] = g.t.slice(0, -1).map(() => null);
    g.series[k].push(v);
  };
  add('admitted', s.admittedPerSec);
  for (const k of Object.keys(g.series)) if (k.startsWith('refused:') || k.startsWith('shadow:')) g.series[k].length < g.t.length && g.series[k].push(0);
  for (const [k, v] of Object.entries(s.refusedPerSec)) { const key = 'refused:' + k; if (!g.series[key]) add(key, v); else g.series[key][g.t.length - 1] = v; }
  for (const [k, v] of Object.entries(s.shadowPerSec)) { const key = 'shadow:' + k; if (!g.series[key]) add(key, v); else g.series[key][g.t.length - 1] = v; }
  add('inFlight', s.inFlight); add('limit', s.limit); add('queued', s.queued);
  add('waitP50', s.waitP50Ms); add('waitP99', s.waitP99Ms); add('latP50', s.latencyP50Ms); add('latP99', s.latencyP99Ms);
  const max = window.historyLength;
  if (g.t.length > max) { g.t.shift(); for (const v of Object.values(g.series)) v.shift(); }
}

function plot(g, id, title, keys, unit) {
  const el = g.el.querySelector('[data-chart="' + id + '"]');
  const data = [g.t].concat(keys.map((k) => g.series[k[0]] || g.t.map(() => null)));
  const sig = keys.map((k) => k[0]).join(',');
  if (!g.plots[id] || g.plots[id].sig !== sig) {
    if (g.plots[id]) g.plots[id].u.destroy();
    const series = [{}].concat(keys.map(([k, label, color, dash]) => ({ label, stroke: color, dash, width: 1.5 })));
    const u = new uPlot({ title, width: 460, height: 200, series, axes: [{}, { label: unit, size: 60 }], legend: { live: false } }, data, el);
    g.plots[id] = { u, sig };
  } else g.plots[id].u.setData(data);
}

function render(g, s) {
  const badges = g.el.querySelector('.badges');
  const b = [];
  if (s.breaker) b.push(['breaker', 'breaker ' + s.breaker, s.breaker === 'closed' ? 'ok' : 'bad']);
  if (s.pressure) b.push(['pressure', 'pressure ' + s.pressure.level + ' (' + fmt(s.pressure.pressure * 100) + '%)', s.pressure.level === 'normal' ? 'ok' : 'bad']);
  for (const [k, v] of Object.entries(s.info)) b.push([k, k + ': ' + v, k.startsWith('fault') || v === 'shadow' || v === 'canary' ? 'warn' : '']);
  badges.innerHTML = '';
  for (const [k, text, cls] of b) { const e = document.createElement('span'); e.className = 'badge ' + cls; e.dataset.badge = k; e.textContent = text; badges.append(e); }
  const figs = g.el.querySelector('.figures');
  if (!figs.children.length) for (const [k, label] of FIGURES) figs.insertAdjacentHTML('beforeend', '<div class="figure"><b data-group="" data-figure="' + k + '"></b><span>' + label + '</span></div>');
  for (const [k, , f] of FIGURES) { const e = figs.querySelector('[data-figure="' + k + '"]'); e.dataset.group = s.name; e.textContent = f(s); }
  const sigs = g.el.querySelector('.signals');
  sigs.textContent = s.pressure ? 'signals: ' + s.pressure.signals.map((x) => x.name + ' ' + x.level + ' ' + fmt(x.pressure * 100) + '%').join(', ') : '';
  const tb = g.el.querySelector('.tenants tbody');
  tb.innerHTML = '';
  for (const [tenant, n] of s.topTenants) { const tr = document.createElement('tr'); tr.innerHTML = '<td></td><td></td>'; tr.children[0].textContent = tenant; tr.children[1].textContent = n; tb.append(tr); }
  const reasons = Object.keys(g.series).filter((k) => k.startsWith('refused:') || k.startsWith('shadow:')).sort();
  plot(g, 'rates', 'Admitted and refused per second', [['admitted', 'admitted', colors.admitted]].concat(reasons.map((k) => [k, k.replace('refused:', ''), colors[k.split(':')[1]] || '#333', k.startsWith('shadow:') ? [4, 4] : undefined])), '/s');
  plot(g, 'limit', 'In flight vs limit', [['inFlight', 'in flight', '#1f77b4'], ['limit', 'limit', '#d62728']], 'requests');
  plot(g, 'queue', 'Queue depth', [['queued', 'queued', '#9467bd']], 'waiting');
  plot(g, 'latency', 'Latency and queue wait', [['latP50', 'latency p50', '#1f77b4'], ['latP99', 'latency p99', '#1f77b4', [4, 4]], ['waitP50', 'wait p50', '#ff7f0e'], ['waitP99', 'wait p99', '#ff7f0e', [4, 4]]], 'ms');
}

function apply(sample) {
  for (const s of sample.groups) {
    const g = groups.get(s.name) || card(s.name);
    push(g, sample.t, s);
    render(g, s);
  }
  // A group no longer sampled (a reload removed or renamed its policy) goes, charts and all.
  const names = new Set(sample.groups.map((s) => s.name));
  for (const [name, g] of groups) {
    if (names.has(name)) continue;
    for (const p of Object.values(g.plots)) p.u.destroy();
    g.el.remove();
    groups.delete(name);
  }
  document.getElementById('updated').textContent = new Date(sample.t).toISOString().slice(11, 19) + ' UTC';
  document.body.dataset.samples = String(Number(document.body.dataset.samples || 0) + 1);
}

const es = new EventSource(base + '/events');
es.addEventListener('history', (e) => { for (const s of JSON.parse(e.data)) apply(s); });
es.onmessage = (e) => apply(JSON.parse(e.data));
es.onerror = () => { document.getElementById('updated').textContent = 'reconnecting…'; };
`;

/** `historyLength`: samples a chart keeps (the dashboard's history: historySeconds / intervalMs). */
export function dashboardPage(base: string, title: string, intervalMs: number, historyLength: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)} — dashboard</title>
<link rel="stylesheet" href="${base}/uplot.css">
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
header { display: flex; gap: 16px; align-items: baseline; }
.group { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; margin: 14px 0; }
.group h2 { margin: 0 0 6px; font-size: 16px; }
.badges { margin-bottom: 6px; }
.badge { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 10px; background: #eee; }
.badge.ok { background: #e0f3e0; } .badge.bad { background: #fadada; } .badge.warn { background: #fff0c2; }
.figures { display: flex; flex-wrap: wrap; gap: 8px 18px; margin-bottom: 8px; }
.figure b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
.figure span { color: #666; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, 470px); gap: 6px; }
.tenants { border-collapse: collapse; margin-top: 6px; } .tenants td { padding: 1px 10px 1px 0; font-variant-numeric: tabular-nums; }
.tenants caption { text-align: left; color: #666; }
</style>
</head>
<body data-base="${escape(base)}">
<header><h1>${escape(title)}</h1><span>live, every ${intervalMs} ms — <span id="updated">connecting…</span></span></header>
<main id="groups"></main>
<script>window.historyLength = ${historyLength};</script>
<script src="${base}/uplot.js"></script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
