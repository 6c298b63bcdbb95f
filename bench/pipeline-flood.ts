/**
 * `npm run bench:pipeline-flood` — what a pipelining flood does to an honest client of the
 * gateway. `--connections` raw TCP connections (a child process) each write 64 kB of pipelined
 * small GETs as fast as the gateway takes them and never read (node buffers one read's worth of
 * answers, then the kernel's), reconnecting when closed, for `--seconds`; meanwhile an honest
 * client opens a fresh connection every `--every-ms` for one GET. Prints, per gateway tree: the
 * honest requests' latency (answered = any status: a 503 with Retry-After is an answer), the
 * gateway's event-loop delay (monitorEventLoopDelay, scripts/loop-delay-preload.mjs), the
 * latency of its admin /status (served by the same loop), its CPU seconds and counters.
 *
 * The gateway is the CLI of each `--trees` checkout (its bin/sluice.js), started as
 *   gateway --upstream URL --port N --host 127.0.0.1 --concurrency 50 --queue-timeout 50ms --admin-port N --log-level warn
 * in front of an upstream (its own child process) that answers at once. With several trees they
 * alternate, `--rounds` times, and the medians are compared in the same run.
 *
 *   npm run bench:pipeline-flood                                      # this tree, 300 connections, 20 s
 *   npm run bench:pipeline-flood -- --trees /tmp/main,. --rounds 2    # A/B against another checkout
 *   npm run bench:pipeline-flood -- --cpu-prof /tmp/prof              # the gateway's CPU profile
 *   PIPELINE_FLOOD_DEBUG=1 npm run bench:pipeline-flood              # + each honest request, loop second and /status (stderr)
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '20' },
    'every-ms': { type: 'string', default: '500' },
    trees: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string', default: '' },
  },
  strict: true,
});
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const everyMs = Number(values['every-ms']);
const rounds = Number(values.rounds);
if (!(connections >= 1 && connections <= 2000)) throw new Error(`--connections: 1..2000; received ${values.connections}`);
if (!(seconds >= 1 && seconds <= 120)) throw new Error(`--seconds: 1..120; received ${values.seconds}`);
if (!(everyMs >= 50)) throw new Error(`--every-ms: 50 or more; received ${values['every-ms']}`);
if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 5)) throw new Error(`--rounds: 1..5; received ${values.rounds}`);
const trees = values.trees.split(',').map((t) => resolve(t));
/** An honest request unanswered this long after the flood ended counts as never answered. */
const HONEST_TIMEOUT_MS = 60_000;
const PRELOAD = fileURLToPath(new URL('../scripts/loop-delay-preload.mjs', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function child(args: string[], env: NodeJS.ProcessEnv = process.env): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, out: () => out };
}

async function stop(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  const late = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(late);
}

const UPSTREAM = `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('up'));`;

/** The flood: argv port, connections, seconds. Prints its own counts as JSON at the end. */
const FLOOD = `
const net = require('net');
const [port, n, seconds] = process.argv.slice(1).map(Number);
const GET = 'GET /flood HTTP/1.1\\r\\nHost: flood\\r\\n\\r\\n';
const buf = Buffer.from(GET.repeat(Math.floor(65536 / GET.length)));
let opened = 0, closed = 0, chunks = 0, running = true;
function one() {
  opened++;
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  const pump = () => { while (running && !s.destroyed && s.write(buf)) chunks++; };
  s.on('connect', pump);
  s.on('drain', () => { chunks++; pump(); });
  s.on('close', () => { closed++; if (running) setTimeout(one, 10); });
}
for (let i = 0; i < n; i++) one();
setTimeout(() => { running = false; console.log(JSON.stringify({ opened, closed, chunksOf64kB: chunks })); process.exit(0); }, seconds * 1000);
`;

interface Honest {
  readonly atMs: number;
  ms: number | undefined;
  status: number | undefined;
  /** When the TCP connection was accepted (the kernel's accept queue, not the gateway, may hold it). */
  connectMs?: number;
}

function honestGet(port: number, out: Honest): Promise<void> {
  const t0 = performance.now();
  return new Promise((done) => {
    const req = get({ host: '127.0.0.1', port, path: '/honest', agent: false, timeout: HONEST_TIMEOUT_MS + seconds * 1000 }, (res) => {
      res.resume();
      res.on('end', () => {
        out.ms = performance.now() - t0;
        out.status = res.statusCode;
        done();
      });
    });
    req.on('socket', (s) => s.once('connect', () => (out.connectMs = performance.now() - t0)));
    req.on('timeout', () => req.destroy());
    req.on('error', () => done());
  });
}

interface StatusView {
  counters: Record<string, number>;
  paused: { now: number; total: number };
}

async function status(adminPort: number): Promise<{ ms: number; body: StatusView } | undefined> {
  const t0 = performance.now();
  try {
    const r = await fetch(`http://127.0.0.1:${adminPort}/status`, { signal: AbortSignal.timeout(HONEST_TIMEOUT_MS) });
    return { ms: performance.now() - t0, body: (await r.json()) as StatusView };
  } catch {
    return undefined;
  }
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100/s)
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Result {
  tree: string;
  honestSent: number;
  honestAnswered: number;
  statuses: Record<string, number>;
  honestP50Ms: number;
  honestP90Ms: number;
  honestMaxMs: number;
  over1s: number;
  loopDelayMaxMs: number;
  loopDelayP99OfSecondsMs: number;
  statusMaxMs: number;
  gatewayCpuS: number;
  flood: unknown;
  counters: Record<string, number>;
  paused: number;
}

async function round(tree: string, profDir: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-flood-'));
  const loopFile = join(dir, 'loop.jsonl');
  const [upPort, port, adminPort] = [await freePort(), await freePort(), await freePort()];
  const up = child(['-e', UPSTREAM, String(upPort)]);
  const flags = ['--import', PRELOAD, ...(profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`])];
  const gw = child([...flags, join(tree, 'bin/sluice.js'), 'gateway', '--upstream', `http://127.0.0.1:${upPort}`, '--port', String(port), '--host', '127.0.0.1', '--concurrency', '50', '--queue-timeout', '50ms', '--admin-port', String(adminPort), '--log-level', 'warn'], { ...process.env, SLUICE_LOOP_DELAY_FILE: loopFile });
  try {
    for (let t = 0; (await status(adminPort)) === undefined; t++) {
      if (t > 300 || gw.proc.exitCode !== null) throw new Error(`the gateway of ${tree} did not start: ${gw.out()}`);
      await sleep(100);
    }
    const cpu0 = cpuSeconds(gw.proc.pid!);
    const flood = child(['-e', FLOOD, String(port), String(connections), String(seconds)]);
    const honest: Honest[] = [];
    const pending: Promise<void>[] = [];
    const statusMs: number[] = [];
    const t0 = performance.now();
    let polling = true;
    const poll = (async (): Promise<void> => {
      while (polling) {
        const s = await status(adminPort);
        statusMs.push(s?.ms ?? HONEST_TIMEOUT_MS);
        if (process.env.PIPELINE_FLOOD_DEBUG === '1' && statusMs.length === Math.ceil(seconds / 2)) console.error(JSON.stringify(s?.body));
        await sleep(1000);
      }
    })();
    while (performance.now() - t0 < seconds * 1000) {
      const h: Honest = { atMs: performance.now() - t0, ms: undefined, status: undefined };
      honest.push(h);
      pending.push(honestGet(port, h));
      await sleep(everyMs);
    }
    await new Promise((r) => (flood.proc.exitCode !== null ? r(undefined) : flood.proc.once('exit', r)));
    await Promise.all(pending);
    polling = false;
    await poll;
    const last = await status(adminPort);
    const cpu = cpuSeconds(gw.proc.pid!) - cpu0;
    const loop = readFileSync(loopFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { atMs: number; maxMs: number; p99Ms: number });
    if (process.env.PIPELINE_FLOOD_DEBUG === '1') console.error(JSON.stringify({ honest: honest.map((h) => [Math.round(h.atMs), Math.round(h.connectMs ?? -1), Math.round(h.ms ?? -1)]), loop: loop.map((l) => [l.atMs, Math.round(l.maxMs)]), statusMs: statusMs.map(Math.round) }));
    const answered = honest.filter((h) => h.ms !== undefined).map((h) => h.ms!);
    const statuses: Record<string, number> = {};
    for (const h of honest) statuses[String(h.status ?? 'none')] = (statuses[String(h.status ?? 'none')] ?? 0) + 1;
    let floodCounts: unknown;
    try {
      floodCounts = JSON.parse(flood.out().trim().split('\n').pop() ?? '');
    } catch {
      floodCounts = flood.out();
    }
    return {
      tree,
      honestSent: honest.length,
      honestAnswered: answered.length,
      statuses,
      honestP50Ms: pct(answered, 50),
      honestP90Ms: pct(answered, 90),
      honestMaxMs: Math.max(...answered, 0),
      over1s: honest.filter((h) => h.ms === undefined || h.ms > 1000).length,
      loopDelayMaxMs: Math.max(...loop.map((l) => l.maxMs), 0),
      loopDelayP99OfSecondsMs: pct(
        loop.map((l) => l.maxMs),
        99,
      ),
      statusMaxMs: Math.max(...statusMs, 0),
      gatewayCpuS: cpu,
      flood: floodCounts,
      counters: last?.body.counters ?? {},
      paused: last?.body.paused.total ?? 0,
    };
  } finally {
    await stop(gw.proc);
    await stop(up.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (let r = 0; r < rounds; r++) {
  // Rotated each round: neither tree always runs first on a machine whose load drifts.
  const order = trees.map((_, i) => trees[(i + r) % trees.length]!);
  for (const tree of order) {
    const res = await round(tree, values['cpu-prof']);
    results.push(res);
    const { counters, ...shown } = res;
    console.log(JSON.stringify({ ...shown, pipelineCut: counters.pipelineCut, rejected: counters.rejected, admitted: counters.admitted, pipelinePaused: counters.pipelinePaused }));
  }
}
const median = (xs: number[]): number => pct(xs, 50);
console.log(`\n${connections} pipelining connections for ${seconds} s, an honest GET every ${everyMs} ms; medians of ${rounds} round(s)`);
console.log('tree | honest answered | honest p50 ms | honest max ms | honest > 1 s | loop delay max ms | /status max ms | gateway CPU s');
for (const tree of trees) {
  const rs = results.filter((r) => r.tree === tree);
  const m = (f: (r: Result) => number): string => median(rs.map(f)).toFixed(0);
  console.log(`${tree} | ${m((r) => r.honestAnswered)}/${m((r) => r.honestSent)} | ${m((r) => r.honestP50Ms)} | ${m((r) => r.honestMaxMs)} | ${m((r) => r.over1s)} | ${m((r) => r.loopDelayMaxMs)} | ${m((r) => r.statusMaxMs)} | ${median(rs.map((r) => r.gatewayCpuS)).toFixed(1)}`);
}
if (trees.length > 1) {
  const base = results.filter((r) => r.tree === trees[0]);
  for (const tree of trees.slice(1)) {
    const rs = results.filter((r) => r.tree === tree);
    const ratio = (f: (r: Result) => number): string => (median(rs.map(f)) / median(base.map(f))).toFixed(3);
    console.log(`${tree} ÷ ${trees[0]}: honest max latency ${ratio((r) => r.honestMaxMs)}, loop delay max ${ratio((r) => r.loopDelayMaxMs)}, /status max ${ratio((r) => r.statusMaxMs)}`);
  }
}
