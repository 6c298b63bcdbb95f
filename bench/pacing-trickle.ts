/**
 * `npm run bench:pacing-trickle` — refusals that trickle in after a retry storm: are they paused?
 *
 * One gateway per tree (this checkout's dist/, and `--baseline <tree>`'s), one route with a
 * rate limit per tenant (`--tenant-rate`, 30/min, burst 1: a refusal's pause is the whole
 * `server.pauseRefused`, 1 s; tenant: the `x-api-key` header, else the address), in
 * front of an upstream answering at once. Each round, for each gateway in turn (the order
 * alternated round by round):
 *   1. a storm: wrk, `--storm-connections` (2,000) connections with no key for `--storm-seconds`
 *      (5): nearly every request refused 429 at once, re-sent the instant it is answered — the
 *      loop saturated, refusal pacing engaged;
 *   2. then a trickle, open loop: `--clients` (5) clients, each a tenant of its own sending
 *      `--rate` (2) requests a second over one keep-alive connection (an HTTP client's agent),
 *      for `--trickle-seconds` (10), each request timed from when it was due (one that waited
 *      for its paused connection counts the wait): one in 2 s admitted per client, the rest
 *      refused 429 — a few clients over their rate, 8 refusals a second in all.
 * Reported per gateway: the trickle's latency p50/p99/max over its whole length and over its
 * part from `--settle` (3 s) on (once the storm's own pauses, at most 2.5 s, have run out), the
 * refusals among them, and /status `paused` at the end (engaged, pauses made, unpaced).
 *
 *   npm run build:unchecked && npm run bench:pacing-trickle -- --baseline /tmp/base --rounds 3
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runWrk } from './gateway/wrk.js';

const { values: o } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'storm-connections': { type: 'string', default: '2000' },
    'storm-seconds': { type: 'string', default: '5' },
    'trickle-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '2' },
    clients: { type: 'string', default: '5' },
    settle: { type: 'string', default: '3' },
    port: { type: 'string', default: '10010' },
    'tenant-rate': { type: 'string', default: '30/min' },
  },
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function startUpstream(port: number): Promise<() => void> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return () => server.close();
}

interface Gw {
  readonly name: string;
  readonly url: string;
  readonly admin: string;
  readonly child: ChildProcess;
}

async function startGateway(name: string, tree: string, port: number, upstream: number): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'pacing-trickle-'));
  const file = join(dir, 'sluice.yaml');
  writeFileSync(
    file,
    `listen: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${port + 1} }
log: { level: error }
upstreams:
  app: { url: http://127.0.0.1:${upstream} }
policies:
  api:
    tenant: { header: x-api-key }
    rateLimits: [{ rate: ${o['tenant-rate']}, burst: 1 }]
routes:
  - { path: /, policy: api }
`,
  );
  const cmd = `ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const child = spawn('sh', ['-c', cmd, process.execPath, join(tree, 'bin/sluice.js'), 'gateway', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port + 1}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { name, url, admin: `http://127.0.0.1:${port + 1}`, child };
    await sleep(100);
  }
  throw new Error(`${name}: the gateway did not start`);
}

interface Timed {
  readonly dueAt: number;
  readonly ms: number;
  readonly status: number;
}

/** The trickle: `clients` tenants, each `rate`/s over one keep-alive connection of its own, timed from when each was due. */
async function trickle(url: string, clients: number, rate: number, seconds: number): Promise<Timed[]> {
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const start = performance.now();
  const out: Promise<Timed>[] = [];
  const every = 1000 / (rate * clients);
  for (let i = 0; i < rate * clients * seconds; i++) {
    const dueAt = start + i * every;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    const c = i % clients;
    out.push(
      new Promise<Timed>((done) => {
        const req = request(`${url}/`, { agent: agents[c], headers: { 'x-api-key': `client-${c}` } }, (res) => {
          res.resume();
          res.on('end', () => done({ dueAt: dueAt - start, ms: performance.now() - dueAt, status: res.statusCode ?? 0 }));
        });
        req.on('error', () => done({ dueAt: dueAt - start, ms: performance.now() - dueAt, status: 0 }));
        req.end();
      }),
    );
  }
  const all = await Promise.all(out);
  for (const a of agents) a.destroy();
  return all;
}

function summary(t: readonly Timed[]): string {
  const ms = t.map((x) => x.ms).sort((a, b) => a - b);
  const refused = t.filter((x) => x.status === 429).length;
  return `n ${t.length} (429: ${refused}, other non-200: ${t.filter((x) => x.status !== 200 && x.status !== 429).length}) p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms, max ${(ms[ms.length - 1] ?? NaN).toFixed(1)} ms`;
}

async function round(gw: Gw): Promise<{ all: Timed[]; paused: unknown }> {
  await runWrk({ binary: 'wrk', url: `${gw.url}/`, connections: Number(o['storm-connections']), seconds: Number(o['storm-seconds']), threads: 1, timeoutS: 10 });
  const all = await trickle(gw.url, Number(o.clients), Number(o.rate), Number(o['trickle-seconds']));
  const status = (await (await fetch(`${gw.admin}/status`)).json()) as { paused: unknown };
  return { all, paused: status.paused };
}

async function main(): Promise<void> {
  const base = Number(o.port);
  const stopUpstream = await startUpstream(base);
  const gws = [await startGateway('branch', resolve('.'), base + 2, base)];
  if (o.baseline !== undefined) gws.push(await startGateway('baseline', resolve(o.baseline), base + 4, base));
  const settleMs = Number(o.settle) * 1000;
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    for (let r = 0; r < Number(o.rounds); r++) {
      const order = r % 2 === 0 ? gws : [...gws].reverse();
      for (const gw of order) {
        const { all, paused } = await round(gw);
        console.log(`round ${r + 1} ${gw.name}: trickle all: ${summary(all)}`);
        console.log(`round ${r + 1} ${gw.name}: trickle from ${o.settle} s: ${summary(all.filter((x) => x.dueAt >= settleMs))}`);
        console.log(`round ${r + 1} ${gw.name}: paused at the end: ${JSON.stringify(paused)}`);
        await sleep(3000); // the trickle's pauses run out before the next round
      }
    }
  } finally {
    for (const gw of gws) gw.child.kill('SIGTERM');
    stopUpstream();
  }
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
