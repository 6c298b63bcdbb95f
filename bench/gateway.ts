/**
 * `npm run bench:gateway` — the gateway under open-loop overload on loopback, against the
 * proxies people put in front of a drowning service, in one run:
 *
 *   no proxy | sluice fixed (concurrency + queue timeout) | sluice adaptive |
 *   nginx limit_req | HAProxy maxconn + timeout queue        (each at 2x and 8x capacity)
 *   bare Node proxy vs sluice fixed at 0.5x                   (the gateway's own overhead)
 *
 * The upstream is the demo's (src/demo/upstream.ts: 50 in service x 20 ms = 2,500 req/s,
 * unbounded queue inside), in its own process; each proxy in its own process; the
 * open-loop generator (src/demo/open-loop.ts) in this one. nginx and HAProxy run when their
 * binaries are on the PATH (`apt-get install nginx haproxy`), with configs written to a
 * temp dir, on free ports. Every process is stopped by its PID, also on Ctrl-C. CPU and RSS
 * of each proxy come from /proc. Results: bench/results/gateway-latest.{json,md}. sluice runs
 * from dist/, built first (loudly) when older than src/, here and in --baseline (gateway/built.ts).
 *
 *   npm run bench:gateway                 10 s per contender per load (~3 min)
 *   npm run bench:gateway -- --long       60 s per contender per load (the RSS goal's length)
 *   npm run bench:gateway -- --duration 5 --only "sluice fixed,haproxy maxconn" --no-save
 *   npm run bench:gateway -- --loads 8    only the 8x load (multiples of capacity, comma-separated)
 *   npm run bench:gateway -- --no-pin     do not pin the generator and the servers to separate CPUs
 *
 * Then the closed-loop section: wrk (its connections re-send as soon as they are answered,
 * 503 included: a retry storm) at 100, 500, 2,000 and 10,000 connections against sluice
 * with 1 and 2 workers, the node limit floor (bench/gateway/limit-floor.ts), HAProxy
 * nbthread 1 and 2, nginx limit_req — and the rate limit's
 * accuracy (--rate 2000/s --burst 100, 1 and 2 workers, 10/200/1,000 connections). wrk is
 * the Debian package (`apt-get install wrk`); without it the section is skipped, loudly.
 *
 *   npm run bench:gateway -- --closed-only --conns 2000 --closed-duration 5
 *   npm run bench:gateway -- --closed-only --only "sluice 2 workers" --no-save   (--only names rows of any section)
 *   npm run bench:gateway -- --no-closed  the open-loop section only
 *   npm run bench:gateway -- --rate-only --closed-duration 5 --no-save   the rate rows only
 *   npm run bench:gateway -- --rate-only --rate-conns 10 --rate-pause 0  ... at 10 connections, refused connections never paused
 *   npm run bench:gateway -- --rate-only --rate-pause-load 0              ... refused connections paused whatever the loop's load
 *   npm run bench:gateway -- --closed-only --closed-pause 3000            the closed-loop rows with server.pauseRefused 3 s (default: the gateway's, 1 s)
 *   npm run bench:gateway -- --closed-only --closed-pause-load 0          ... with server.pauseRefusedLoad 0 (pause whatever the loop's load)
 *   npm run bench:gateway -- --proxy-prof /tmp/prof   every Node proxy writes a CPU profile there (node --cpu-prof) when stopped
 *   npm run bench:gateway -- --proxy-flags=--trace-gc   more Node flags for every Node proxy (its output goes to this terminal)
 *   npm run bench:gateway -- --baseline ../other-checkout --only "sluice 1 worker,sluice 1 worker @baseline"
 *   npm run bench:gateway -- --closed-only --baseline ../other-checkout --only "sluice 2 workers @baseline,sluice 2 workers"
 *       another checkout's gateway beside this one's, same run (sluice fixed @baseline in the open loop); rows run in --only's order
 *   npm run bench:gateway -- --closed-only --baseline ../other-checkout --only "sluice 1 worker @baseline,sluice 1 worker" --pairs 4
 *       each contender with its @baseline twin in 4 pairs per connection count (per load in the open loop), --only's first one first in pairs 1, 3, ...
 *       and second in 2, 4, ...; prints each pair's goodput ratio (candidate ÷ baseline) and order, then the median and how many pairs favour each side
 *   npm run bench:gateway -- --closed-only --only "node limit floor,node limit floor http.Agent,haproxy nbthread 1" --pair-rows "node limit floor,node limit floor http.Agent" --pairs 2
 *       any two rows in pairs (the first named the baseline), no --baseline needed; the other rows after them. The floor through
 *       other HTTP/1 clients ("node limit floor pipelining 2", "node limit floor http.Agent") runs only when --only names it
 * Before each row, sockets in TIME_WAIT over a quarter of the port range are waited out, loudly (bench/lib/time-wait.ts).
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ServerChild } from '../src/demo/server-child.js';
import type { ServerSpec } from '../src/demo/server-process.js';
import { ensureBuilt, treesToBuild } from './gateway/built.js';
import { closedContenders, contenders, overheadContenders, rateContenders } from './gateway/contenders.js';
import { measureClosed, measureRate } from './gateway/closed-loop.js';
import { capacityLine, openCapacity, openRowValidity } from './gateway/open-validity.js';
import type { ClosedRow, RateRow } from './gateway/closed-loop.js';
import { versionOf, which } from './gateway/external.js';
import { runWrk } from './gateway/wrk.js';
import type { BenchContender, ContenderSettings, Running } from './gateway/contenders.js';
import { judgeClosed, judgeGateway } from './gateway/goals.js';
import type { Measurement } from './gateway/measure.js';
import { measure } from './gateway/measure.js';
import { gatewayNotes } from './gateway/notes.js';
import { runPairs } from './gateway/pair-run.js';
import { pairsSummaryTable, pairsTable, pairUp, readPairing } from './gateway/pairs.js';
import type { PairSet } from './gateway/pairs.js';
import { closedLine, openLine, rateLine } from './gateway/progress.js';
import { closedTable, goalLines, loadTable, overheadTable, rateTable, rssTable, saveRecord } from './gateway/report.js';
import type { GatewayRecord } from './gateway/report.js';
import { gitRevision, machineInfo, ownVersion } from './lib/machine.js';
import { renderTable } from './lib/table.js';
import { settleTimeWait } from './lib/time-wait.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    long: { type: 'boolean', default: false },
    only: { type: 'string' },
    loads: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'no-overhead': { type: 'boolean', default: false },
    'no-closed': { type: 'boolean', default: false },
    'closed-only': { type: 'boolean', default: false },
    conns: { type: 'string' },
    'closed-duration': { type: 'string' },
    'rate-only': { type: 'boolean', default: false },
    'rate-conns': { type: 'string' },
    'rate-pause': { type: 'string' },
    'rate-pause-load': { type: 'string' },
    'closed-pause': { type: 'string' },
    'closed-pause-load': { type: 'string' },
    'proxy-prof': { type: 'string' },
    'proxy-flags': { type: 'string' },
    baseline: { type: 'string' },
    pairs: { type: 'string' },
    'pair-rows': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${/\*\*([\s\S]*?)\*\//.exec((await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8'))?.[1]?.replace(/^ \* ?/gm, '') ?? ''}\n`);
  process.exit(0);
}
const durationS = values.duration === undefined ? (values.long ? 60 : 10) : Number(values.duration);
if (!Number.isFinite(durationS) || durationS < 1) throw new Error(`--duration: expected seconds >= 1, received ${JSON.stringify(values.duration)}`);

const UPSTREAM = { concurrency: 50, serviceMs: 20 };
const NOMINAL = (UPSTREAM.concurrency * 1000) / UPSTREAM.serviceMs;
const QUEUE_TIMEOUT_MS = 100;
const LOADS = values.loads === undefined ? [2, 8] : values.loads.split(',').map(Number);
if (LOADS.some((l) => !Number.isFinite(l) || l <= 0)) throw new Error(`--loads: expected multiples of capacity such as "2,8", received ${JSON.stringify(values.loads)}`);
const CONNS = values.conns === undefined ? [100, 500, 2000, 10_000] : values.conns.split(',').map(Number);
if (CONNS.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--conns: expected connection counts such as "100,2000", received ${JSON.stringify(values.conns)}`);
const closedSeconds = values['closed-duration'] === undefined ? durationS : Number(values['closed-duration']);
if (!Number.isFinite(closedSeconds) || closedSeconds < 1) throw new Error(`--closed-duration: expected seconds >= 1, received ${JSON.stringify(values['closed-duration'])}`);
const RATE = { perS: 2000, burst: 100 };
const RATE_CONNS = values['rate-conns'] === undefined ? [10, 200, 1000] : values['rate-conns'].split(',').map(Number);
if (RATE_CONNS.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--rate-conns: expected connection counts such as "10,200", received ${JSON.stringify(values['rate-conns'])}`);
/** server.pauseRefused (ms) and server.pauseRefusedLoad (0: pause whatever the load) for the rate rows and the closed-loop rows; undefined: the gateway's default. */
const [RATE_PAUSE_MS, CLOSED_PAUSE_MS] = [pauseFlag('rate-pause', 'ms >= 0', Infinity), pauseFlag('closed-pause', 'ms >= 0', Infinity)];
const [RATE_PAUSE_LOAD, CLOSED_PAUSE_LOAD] = [pauseFlag('rate-pause-load', 'a utilisation in [0, 1)', 1), pauseFlag('closed-pause-load', 'a utilisation in [0, 1)', 1)];
function pauseFlag(name: 'rate-pause' | 'closed-pause' | 'rate-pause-load' | 'closed-pause-load', expected: string, below: number): number | undefined {
  const v = values[name] === undefined ? undefined : Number(values[name]);
  if (v !== undefined && !(v >= 0 && v < below)) throw new Error(`--${name}: expected ${expected}, received ${JSON.stringify(values[name])}`);
  return v;
}
/** The rate rows' ceiling run through the unlimited route, s. */
const CEILING_SECONDS = Math.min(3, closedSeconds);
/** The issue's closed-loop setting: the same upstream, concurrency 50, a 50 ms queue timeout. */
const CLOSED_QUEUE_TIMEOUT_MS = 50;
const OVERHEAD_LOAD = 0.5;
const OVERHEAD_ROUNDS = 2;
const TIMEOUT_MS = 2000;
const MAX_SOCKETS = 4096;
const WARMUP_MS = 1000;
/** Every row first runs this long at its own load, not counted: the measured window is the steady state. */
const ROW_WARMUP_MS = 2000;
const settings: ContenderSettings = {
  proxyExecArgv: [
    ...(values['proxy-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['proxy-prof']}`]),
    ...(values['proxy-flags'] === undefined ? [] : values['proxy-flags'].split(/\s+/).filter((f) => f !== '')),
  ],
  ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
  rate: NOMINAL,
  burst: 100,
  concurrency: UPSTREAM.concurrency,
  queueTimeoutMs: QUEUE_TIMEOUT_MS,
  // The open-loop generator is one pool of keep-alive connections standing for many
  // independent clients: configured as docs/gateway.md says for a pool in front of the
  // gateway, refused connections are not paused (pausing is for clients that wait for their
  // connection — the closed-loop section below runs with the default). Paused, this pool got
  // 84% at 2x with a 1 s p99 and nothing at 8x (bench/results/gateway-671789f-quiet.md).
  gateway: { concurrency: UPSTREAM.concurrency, queueTimeoutMs: QUEUE_TIMEOUT_MS, queue: Math.ceil(NOMINAL * Math.max(...LOADS) * (QUEUE_TIMEOUT_MS / 1000) * 1.5), pauseRefusedMs: 0 },
};

// On two cores: the generator and the upstream (cheap: timers) share CPU 0, so the proxy under
// test has CPU 1 to itself — every contender gets the same dedicated core.
const LOADGEN_CPU = 0;
const UPSTREAM_CPU = 0;
const SERVER_CPU = 1;
function pin(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}
const PINNED = !values['no-pin'] && process.platform === 'linux' && cpus().length >= 2 && pin(process.pid, LOADGEN_CPU);

const all = contenders(settings);
const only = values.only?.split(',').map((s) => s.trim());
// --only names contenders of any section: the open loop's, the closed loop's, the rate rows'.
const known = [...new Set([...all, ...closedContenders(settings), ...rateContenders(settings, RATE)].map((c) => c.name))];
const pairing = readPairing({ pairs: values.pairs, pairRows: values['pair-rows'], baseline: values.baseline }, known);
const PAIRS = pairing.pairs;
const unknown = only?.filter((n) => !known.includes(n)) ?? [];
if (unknown.length > 0) throw new Error(`--only: unknown contender(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
const picked = (c: BenchContender): boolean => (only === undefined ? c.optIn !== true : only.includes(c.name));
/** Rows run in --only's order (whichever runs second meets a host and an upstream the first one warmed: --pairs alternates it, or alternate it between runs). */
const inOnlyOrder = (cs: BenchContender[]): BenchContender[] => (only === undefined ? cs : [...cs].sort((a, b) => only.indexOf(a.name) - only.indexOf(b.name)));
/** With --pairs, each contender picked with its @baseline twin (or the two --pair-rows) runs in pairs (bench/gateway/pairs.ts); the rest one after another. */
const paired = (cs: BenchContender[]): ReturnType<typeof pairUp<BenchContender>> => pairUp(cs, pairing);
const chosen = paired(inOnlyOrder(all.filter((c) => picked(c) && c.skipped === undefined)));
const pairSets: PairSet[] = [];
if (PAIRS !== undefined && chosen.twins.length + paired(inOnlyOrder(closedContenders(settings).filter(picked))).twins.length === 0) throw new Error(`--pairs: expected a contender and its @baseline twin (or both --pair-rows) among the rows, received --only ${JSON.stringify(values.only)}`);

// Everything running, so that Ctrl-C and errors stop it all by PID.
const live = new Set<{ stop: () => Promise<void> }>();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  console.log('\ninterrupted: stopping every process started');
  void Promise.allSettled([...live].map((r) => r.stop())).finally(() => process.exit(130));
});

async function withContender<T>(c: BenchContender, upstreamUrl: string, f: (r: Running) => Promise<T>): Promise<T> {
  const r = await c.start(upstreamUrl);
  live.add(r);
  if (PINNED && r.pid !== undefined) pin(r.pid, SERVER_CPU);
  try {
    return await f(r);
  } finally {
    await r.stop();
    live.delete(r);
  }
}

/** Before every row: sockets a row before left in TIME_WAIT (a 10,000-connection row: the whole port range for 60 s) are waited out, loudly (bench/lib/time-wait.ts). */
const settle = (): Promise<unknown> => settleTimeWait({ stopped: () => interrupted });

async function main(): Promise<void> {
  const started = performance.now();
  const openLoop = !values['closed-only'] && !values['rate-only'];
  for (const tree of treesToBuild(fileURLToPath(new URL('..', import.meta.url)), { only, baseline: values.baseline, overhead: openLoop && !values['no-overhead'] })) ensureBuilt(tree);
  const machine = machineInfo();
  console.log(`sluice gateway bench — Node ${machine.node}, ${machine.cores} x ${machine.cpu}, load average ${machine.loadAverage.join(' / ')}`);
  console.log(`upstream ${UPSTREAM.concurrency} x ${UPSTREAM.serviceMs} ms = ${NOMINAL} req/s; open-loop load at ${LOADS.map((l) => `${l}x`).join(' and ')}, ${durationS} s each per contender; requests abandoned after ${TIMEOUT_MS} ms`);
  console.log(PINNED ? `load generator and upstream pinned to CPU ${LOADGEN_CPU}, each proxy to CPU ${SERVER_CPU} alone` : 'not pinned (--no-pin, no taskset or one core)');
  for (const c of all.filter((x) => x.skipped !== undefined)) console.log(`${c.name}: ${c.skipped}`);
  console.log('');

  const upstreamFile = fileURLToPath(new URL('../src/demo/server-process.ts', import.meta.url));
  // Its departures split each closed-loop row by second (served-seconds.ts).
  const upstream = new ServerChild(upstreamFile, [JSON.stringify({ upstream: { ...UPSTREAM, recordArrivals: true } } satisfies ServerSpec)], { name: 'upstream' });
  live.add(upstream);
  const rows: Measurement[] = [];
  const overhead: Measurement[] = [];
  const closed: ClosedRow[] = [];
  const rates: RateRow[] = [];
  try {
    const { url: upstreamUrl } = await upstream.ready;
    if (PINNED && upstream.pid !== undefined) pin(upstream.pid, UPSTREAM_CPU);
    const base = { upstream, capacity: NOMINAL, timeoutMs: TIMEOUT_MS, maxSockets: MAX_SOCKETS, warmupMs: ROW_WARMUP_MS };
    const warmOpen = (c: BenchContender, running: Running): Promise<Measurement> => measure({ ...base, contender: c.name, running, multiple: OVERHEAD_LOAD, durationMs: WARMUP_MS, warmupMs: 0 });
    for (const twin of openLoop ? chosen.twins : []) {
      const measureOne = (c: BenchContender, running: Running, multiple: number): Promise<Measurement> => measure({ ...base, contender: c.name, running, multiple, durationMs: durationS * 1000 });
      const run = { section: 'open loop', twin, pairs: PAIRS!, keys: LOADS, label: (l: number) => `${l}x`, warm: warmOpen, measure: measureOne, goodput: (m: Measurement) => m.goodput, valid: (m: Measurement) => openRowValidity(m).valid, settle, stopped: () => interrupted } as const;
      pairSets.push(...(await runPairs({ ...run, withContender: (c, f) => withContender(c, upstreamUrl, f), row: (m) => (rows.push(m), console.log(openLine(m))) })));
    }
    for (const c of openLoop ? chosen.rest : []) {
      if (interrupted) return;
      await withContender(c, upstreamUrl, async (running) => {
        if (running.adminUrl !== undefined) console.log(`  ${c.name}: ${running.url}, admin ${running.adminUrl}`);
        await warmOpen(c, running);
        for (const multiple of LOADS) {
          await settle();
          const m = await measure({ ...base, contender: c.name, running, multiple, durationMs: durationS * 1000 });
          rows.push(m);
          console.log(openLine(m));
        }
      });
    }
    if (!values['no-overhead'] && openLoop) {
      const pair = overheadContenders(settings);
      for (let round = 0; round < OVERHEAD_ROUNDS && !interrupted; round++) {
        for (const c of round % 2 === 0 ? pair : [...pair].reverse()) {
          await withContender(c, upstreamUrl, async (running) => {
            await settle();
            await measure({ ...base, contender: c.name, running, multiple: OVERHEAD_LOAD, durationMs: WARMUP_MS, warmupMs: 0 });
            const m = await measure({ ...base, contender: c.name, running, multiple: OVERHEAD_LOAD, durationMs: durationS * 1000 });
            overhead.push(m);
            console.log(openLine(m));
          });
        }
      }
    }
    if (!values['no-closed'] && !interrupted) {
      const found = which('wrk');
      if (found === undefined) console.log('\nwrk not installed (apt-get install wrk): the closed-loop section is SKIPPED');
      else await closedSection(found, upstream, upstreamUrl, closed, rates);
    }
  } finally {
    await upstream.stop();
    live.delete(upstream);
  }

  // The upstream's throughput while it was saturated: the most it served per second in a row that kept its slots busy (open-validity.ts).
  const openCap = openCapacity(rows, NOMINAL, UPSTREAM.concurrency);
  const measured = openCap.capacity;
  const top = Math.max(...LOADS);
  const byName = (n: string): Measurement[] => overhead.filter((m) => m.contender === n);
  const goals = ['sluice fixed', 'sluice adaptive'].flatMap((name) =>
    judgeGateway(
      {
        top: rows.find((m) => m.contender === name && m.multiple === top),
        floor: rows.find((m) => m.contender === 'node 503 floor' && m.multiple === top),
        capacity: measured,
        serviceMs: UPSTREAM.serviceMs,
        queueTimeoutMs: QUEUE_TIMEOUT_MS,
        overhead: name === 'sluice fixed' ? { bare: byName('bare node proxy'), gateway: byName('sluice fixed') } : { bare: [], gateway: [] },
      },
      name,
    ),
  );
  const closedCapacity = Math.max(measured, ...closed.filter((r) => Number.isFinite(r.upstreamServedPerS)).map((r) => r.upstreamServedPerS));
  goals.push(...judgeClosed(closed, rates, closedCapacity, UPSTREAM.concurrency));
  const notes = gatewayNotes({ durationS, rowWarmupMs: ROW_WARMUP_MS, ceilingSeconds: CEILING_SECONDS, pinned: PINNED, serverCpu: SERVER_CPU, loadgenCpu: LOADGEN_CPU });
  const record: GatewayRecord = {
    date: new Date().toISOString(),
    command: `npm run bench:gateway${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    sluice: { version: ownVersion(), revision: gitRevision((cmd) => execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) },
    peers: Object.fromEntries(all.filter((c) => c.skipped === undefined && (c.name.startsWith('nginx') || c.name.startsWith('haproxy'))).map((c) => [c.name.split(' ')[0]!, versionOf(c.name.split(' ')[0]!)])),
    settings: { upstream: `${UPSTREAM.concurrency} x ${UPSTREAM.serviceMs} ms`, loads: LOADS.join('x, ') + 'x', seconds: durationS, queueTimeoutMs: QUEUE_TIMEOUT_MS, requestTimeoutMs: TIMEOUT_MS, maxSockets: MAX_SOCKETS, pinned: PINNED },
    capacity: { nominal: NOMINAL, measured: closedCapacity },
    contenders: [...all, overheadContenders(settings)[0]!].map((c) => ({ name: c.name, about: c.about, ...(c.skipped === undefined ? {} : { skipped: c.skipped }) })),
    rows,
    overhead,
    closed,
    rates,
    ...(pairSets.length === 0 ? {} : { pairs: pairSets }),
    goals,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
  console.log(`\n${capacityLine(openCap, NOMINAL, UPSTREAM.concurrency)}\n`);
  const tables = [loadTable(rows, measured), overheadTable(overhead), rssTable([...rows, ...overhead]), closedTable(closed, closedCapacity), rateTable(rates), pairsTable(pairSets), pairsSummaryTable(pairSets)];
  for (const t of tables.filter((x) => x.rows.length > 0)) console.log(`${t.title}\n\n${renderTable(t)}\n`);
  console.log(`Goals:\n${goalLines(goals)}\n`);
  for (const n of notes) console.log(`- ${n}`);
  if (!values['no-save']) {
    const dir = fileURLToPath(new URL('./results', import.meta.url));
    console.log(`\nsaved ${saveRecord(dir, record).join(', ')}`);
  }
  console.log(`Total ${record.seconds.toFixed(0)} s.`);
}

/** wrk against each contender at each connection count, then the rate rows against their own fast upstream. */
async function closedSection(wrk: string, upstream: ServerChild, upstreamUrl: string, closed: ClosedRow[], rates: RateRow[]): Promise<void> {
  // wrk gets every core (the open-loop section pinned this process, whose children inherit it); proxies are not pinned here.
  if (PINNED) spawnSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  if (!values['rate-only']) console.log(`\nclosed loop: wrk -t2, ${CONNS.join(', ')} connections, ${closedSeconds} s each; file limit raised to the hard limit (${hard}) for wrk; queue timeout ${CLOSED_QUEUE_TIMEOUT_MS} ms`);
  // The gateway's default pausing (settings.gateway turns it off for the open-loop pool).
  const { pauseRefusedMs: _openLoopOnly, ...closedGateway } = settings.gateway;
  const closedSettings: ContenderSettings = { ...settings, queueTimeoutMs: CLOSED_QUEUE_TIMEOUT_MS, gateway: { ...closedGateway, queueTimeoutMs: CLOSED_QUEUE_TIMEOUT_MS, ...(CLOSED_PAUSE_MS === undefined ? {} : { pauseRefusedMs: CLOSED_PAUSE_MS }), ...(CLOSED_PAUSE_LOAD === undefined ? {} : { pauseRefusedLoad: CLOSED_PAUSE_LOAD }) } };
  const closedChosen = paired(inOnlyOrder(closedContenders(closedSettings).filter((x) => picked(x) && !values['rate-only'])));
  for (const twin of closedChosen.twins) {
    const warm = (_: BenchContender, running: Running): Promise<unknown> => runWrk({ binary: wrk, url: running.url, connections: 100, seconds: 2, threads: 2, timeoutS: 5 });
    const measureOne = (c: BenchContender, running: Running, connections: number): Promise<ClosedRow> => measureClosed({ wrk, running, contender: c.name, upstream, connections, seconds: closedSeconds, upstreamConcurrency: UPSTREAM.concurrency });
    const run = { section: 'closed loop', twin, pairs: PAIRS!, keys: CONNS, label: (n: number) => `${n} conns`, warm, measure: measureOne, goodput: (r: ClosedRow) => r.goodput, settle, stopped: () => interrupted } as const;
    pairSets.push(...(await runPairs({ ...run, withContender: (c, f) => withContender(c, upstreamUrl, f), row: (r) => (closed.push(r), console.log(closedLine(r))) })));
  }
  for (const c of closedChosen.rest) {
    if (interrupted) return;
    if (c.skipped !== undefined) {
      console.log(`  ${c.name}: ${c.skipped}`);
      continue;
    }
    await settle();
    await withContender(c, upstreamUrl, async (running) => {
      await runWrk({ binary: wrk, url: running.url, connections: 100, seconds: 2, threads: 2, timeoutS: 5 }); // warm-up, not counted
      for (const connections of CONNS) {
        if (interrupted) return;
        await settle();
        const r = await measureClosed({ wrk, running, contender: c.name, upstream, connections, seconds: closedSeconds, upstreamConcurrency: UPSTREAM.concurrency });
        closed.push(r);
        console.log(closedLine(r));
      }
    });
  }
  const rateSettings: ContenderSettings = {
    ...closedSettings,
    gateway: { ...closedSettings.gateway, ...(RATE_PAUSE_MS === undefined ? {} : { pauseRefusedMs: RATE_PAUSE_MS }), ...(RATE_PAUSE_LOAD === undefined ? {} : { pauseRefusedLoad: RATE_PAUSE_LOAD }) },
  };
  const rateRows = rateContenders(rateSettings, RATE).filter(picked);
  if (rateRows.length === 0) return;
  const fast = new ServerChild(fileURLToPath(new URL('../src/demo/server-process.ts', import.meta.url)), [JSON.stringify({ upstream: { concurrency: 2000, serviceMs: 1, recordArrivals: true } } satisfies ServerSpec)], { name: 'fast upstream' });
  live.add(fast);
  try {
    const { url: fastUrl } = await fast.ready;
    console.log(
      `\nrate accuracy: --rate ${RATE.perS}/s --burst ${RATE.burst} (one client address), a fast upstream (2,000 x 1 ms), ${RATE_CONNS.join(', ')} connections, ${closedSeconds} s each ` +
        `(after ${CEILING_SECONDS} s of the same wrk through an unlimited route: the ceiling); pauseRefused ${RATE_PAUSE_MS === undefined ? 'default' : `${RATE_PAUSE_MS} ms`}, pauseRefusedLoad ${RATE_PAUSE_LOAD ?? 'default'}`,
    );
    for (const c of rateRows) {
      await withContender(c, fastUrl, async (running) => {
        for (const connections of RATE_CONNS) {
          if (interrupted) return;
          await settle();
          const r = await measureRate({ wrk, running, contender: c.name, upstream: fast, connections, seconds: closedSeconds, rate: RATE.perS, burst: RATE.burst, ceilingSeconds: CEILING_SECONDS });
          rates.push(r);
          console.log(rateLine(r));
        }
      });
    }
  } finally {
    await fast.stop();
    live.delete(fast);
  }
}

try {
  await main();
} finally {
  await Promise.allSettled([...live].map((r) => r.stop()));
}
