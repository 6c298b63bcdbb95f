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
 * of each proxy come from /proc. Results: bench/results/gateway-latest.{json,md}.
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
 *       another checkout's gateway beside this one's, same run (sluice fixed @baseline in the open loop); closed-loop rows run in --only's order: alternate it
 *
 * Before each row, sockets in TIME_WAIT over a quarter of the ephemeral port range (a
 * 10,000-connection row leaves ~28,000 for 60 s: the whole range) are waited out — until
 * fewer than 200, at most 75 s — with a line starting `!!` (bench/lib/time-wait.ts).
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ServerChild } from '../src/demo/server-child.js';
import type { ServerSpec } from '../src/demo/server-process.js';
import { closedContenders, contenders, overheadContenders, rateContenders } from './gateway/contenders.js';
import { measureClosed, measureRate } from './gateway/closed-loop.js';
import type { ClosedRow, RateRow } from './gateway/closed-loop.js';
import { which } from './gateway/external.js';
import { runWrk } from './gateway/wrk.js';
import type { BenchContender, ContenderSettings, Running } from './gateway/contenders.js';
import { judgeClosed, judgeGateway } from './gateway/goals.js';
import type { Measurement } from './gateway/measure.js';
import { measure } from './gateway/measure.js';
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
const unknown = only?.filter((n) => !known.includes(n)) ?? [];
if (unknown.length > 0) throw new Error(`--only: unknown contender(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
const picked = (c: BenchContender): boolean => only === undefined || only.includes(c.name);
/** The closed-loop rows run in --only's order (an A/B alternates it between runs: whichever runs second meets a host and an upstream the first one warmed). */
const inOnlyOrder = (cs: BenchContender[]): BenchContender[] => (only === undefined ? cs : [...cs].sort((a, b) => only.indexOf(a.name) - only.indexOf(b.name)));
const chosen = all.filter(picked);

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

const line = (m: Measurement): string =>
  `  ${m.contender.padEnd(16)} ${`${m.multiple}x`.padStart(4)}  goodput ${Math.round(m.goodput).toString().padStart(5)}/s  p99 ${m.p99.toFixed(1).padStart(7)} ms  ` +
  `refused ${m.refused} (p99 ${Number.isFinite(m.refusedP99) ? m.refusedP99.toFixed(1) : '—'} ms, Retry-After ${m.refused === 0 ? '—' : `${(m.retryAfterShare * 100).toFixed(1)}%`})  ` +
  `timeouts ${m.timeouts}  errors ${m.errors}  CPU ${Number.isFinite(m.cpuPct) ? Math.round(m.cpuPct) : '—'}%  generator lag max ${m.maxLagMs.toFixed(0)} ms`;

async function main(): Promise<void> {
  const started = performance.now();
  const machine = machineInfo();
  console.log(`sluice gateway bench — Node ${machine.node}, ${machine.cores} x ${machine.cpu}, load average ${machine.loadAverage.join(' / ')}`);
  console.log(`upstream ${UPSTREAM.concurrency} x ${UPSTREAM.serviceMs} ms = ${NOMINAL} req/s; open-loop load at ${LOADS.map((l) => `${l}x`).join(' and ')}, ${durationS} s each per contender; requests abandoned after ${TIMEOUT_MS} ms`);
  console.log(PINNED ? `load generator and upstream pinned to CPU ${LOADGEN_CPU}, each proxy to CPU ${SERVER_CPU} alone` : 'not pinned (--no-pin, no taskset or one core)');
  for (const c of all.filter((x) => x.skipped !== undefined)) console.log(`${c.name}: ${c.skipped}`);
  console.log('');

  const upstreamFile = fileURLToPath(new URL('../src/demo/server-process.ts', import.meta.url));
  const upstream = new ServerChild(upstreamFile, [JSON.stringify({ upstream: UPSTREAM } satisfies ServerSpec)], { name: 'upstream' });
  live.add(upstream);
  const rows: Measurement[] = [];
  const overhead: Measurement[] = [];
  const closed: ClosedRow[] = [];
  const rates: RateRow[] = [];
  try {
    const { url: upstreamUrl } = await upstream.ready;
    if (PINNED && upstream.pid !== undefined) pin(upstream.pid, UPSTREAM_CPU);
    const base = { upstream, capacity: NOMINAL, timeoutMs: TIMEOUT_MS, maxSockets: MAX_SOCKETS, warmupMs: ROW_WARMUP_MS };
    const openLoop = !values['closed-only'] && !values['rate-only'];
    for (const c of chosen.filter((x) => x.skipped === undefined && openLoop)) {
      if (interrupted) return;
      await withContender(c, upstreamUrl, async (running) => {
        if (running.adminUrl !== undefined) console.log(`  ${c.name}: ${running.url}, admin ${running.adminUrl}`);
        await measure({ ...base, contender: c.name, running, multiple: OVERHEAD_LOAD, durationMs: WARMUP_MS, warmupMs: 0 });
        for (const multiple of LOADS) {
          await settle();
          const m = await measure({ ...base, contender: c.name, running, multiple, durationMs: durationS * 1000 });
          rows.push(m);
          console.log(line(m));
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
            console.log(line(m));
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

  // The upstream's throughput while it was saturated: the most it ever served per second in any row.
  const saturated = rows.filter((m) => Number.isFinite(m.upstreamServedPerS)).map((m) => m.upstreamServedPerS);
  const measured = saturated.length > 0 ? Math.max(...saturated) : NOMINAL;
  const top = Math.max(...LOADS);
  const byName = (n: string): Measurement[] => overhead.filter((m) => m.contender === n);
  const goals = ['sluice fixed', 'sluice adaptive'].flatMap((name) =>
    judgeGateway(
      {
        top: rows.find((m) => m.contender === name && m.multiple === top),
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
  const notes = [
    'Latencies are measured from each request\'s scheduled send time (open loop), so a late generator does not hide delay; "generator lag max" in the progress lines says how late it ever was.',
    `Goodput counts the 2xx answers that arrived during the ${durationS} s of load; "% of capacity" is against the measured capacity (the most the upstream served per second in any row).`,
    'Straight at the upstream, a request abandoned at the 2 s deadline stays in the upstream\'s queue and is still served: past capacity the queue fills with work nobody waits for, and goodput collapses.',
    '"SYN drops" counts connection attempts the kernel dropped because the listener\'s accept queue was full (TcpExt ListenOverflows, machine-wide, read around each row); the client retries its SYN after 1 s, 3 s, ... so these become timeouts. The sluice gateway listens with a backlog of 4096 (listen.backlog), nginx with its default of 511; HAProxy\'s default backlog follows its maxconn.',
    `Each row starts with the connections 25 ms of its arrivals need already open and runs ${ROW_WARMUP_MS / 1000} s at its own load before the measured ${durationS} s (not counted): the steady state, not the first second\'s connection storm.`,
    '"node 503 floor" is a node:http server answering every request 503 at once, proxying nothing: its "refused p99" is what the generator, loopback and the kernel alone add at that rate on this machine, the floor under every contender\'s refusal latency.',
    'nginx limit_req refuses with 503 and HAProxy answers 503 after the queue timeout; neither sends Retry-After.',
    '"node limit floor" (closed loop) is node:http in and an undici Pool out with the same slots, FIFO queue and queue timeout (503 + Retry-After), and nothing else (bench/gateway/limit-floor.ts): its CPU per answer is what Node and undici alone cost for the job; the difference to sluice 1 worker is sluice\'s own.',
    'Closed loop: wrk -t2, each connection sending its next request the moment it has an answer (a 503 too), so refusals cost the proxy a round trip each: the retry storm. sluice pauses reading a refused keep-alive connection until its Retry-After (server.pauseRefused, 1 s): a connection that re-sends at once waits in TCP, and wrk sees a slow answer, not an error (its timeout is 5 s). "probe refusal p99" is a fresh connection 10 times a second during the run: what a refusal costs a newcomer under the storm; it starts once the proxy has accepted all of wrk\'s connections (the listener\'s accept queue empty, bench/gateway/accept-queue.ts; "from" says when, s after wrk started), or at half the row — before, a newcomer waits in the kernel\'s accept queue behind wrk\'s own connection storm. The proxies are not pinned in this section (two workers or threads need both cores); the upstream stays on CPU 0. Capacity is the most the upstream served per second in any row. "CPU % per process": the sluice primary, then each worker (nginx: master, then worker); "CPU µs per answer" is the proxy\'s CPU over every answer wrk got, refusals included — the figure that survives a busy machine. "machine CPU %" is the share of all cores busy during the row (wrk, the upstream and the proxy together; near 100, the row is bounded by the machine).',
    `Rate accuracy: one client address, so one bucket. "admitted" is counted by the upstream, which records when each request arrives (every request reaching it was admitted); it is judged over [first, last] arrival against rate × (last − first) + burst. "wrk 2xx" and "wrk deviation" are the old measure (2xx at wrk against rate × wrk's run time + burst; a request in flight when wrk stops is missed). "ceiling" is the same wrk config through an unlimited route of the same gateway for ${CEILING_SECONDS} s just before: a row whose ceiling is under the rate is CLIENT-BOUND, and not judged. "max gap" is the longest time between two arrivals; "overflowed" replays a bucket of the same rate and burst over the arrivals (full at the first, each arrival taking one token) and counts the tokens it threw away while full: tokens nobody asked for, which no limiter could have granted. "of it all held": of those, the tokens lost while every connection had a request inside the upstream (the closed-loop client had nothing left to ask with). "refused with ≥ ½ burst": refusals (timed by wrk's Lua, CLOCK_MONOTONIC like the upstream) that came while the replayed bucket held half its burst or more — a limiter refusing with tokens in hand, give or take the delay between a decision and the upstream or wrk (above 25 ms it inflates this figure: read it at low connection counts). "pauses" are refused connections the gateway stopped reading (server.pauseRefused, from /status).`,
    PINNED
      ? `Each proxy had CPU ${SERVER_CPU} to itself (the generator and the upstream shared CPU ${LOADGEN_CPU}): a proxy at ~100% CPU is the bottleneck of its row, whatever it is configured to do.`
      : 'Not pinned: the generator, the upstream and the proxy shared the cores, so absolute latencies include CPU contention; compare rows within the run.',
  ].filter((n) => n !== '');
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
    goals,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
  console.log(`\nupstream capacity: ${NOMINAL} req/s nominal, ${Math.round(measured)} req/s measured\n`);
  const tables = [loadTable(rows, measured), overheadTable(overhead), rssTable([...rows, ...overhead]), closedTable(closed, closedCapacity), rateTable(rates)];
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
  for (const c of inOnlyOrder(closedContenders(closedSettings).filter((x) => picked(x) && !values['rate-only']))) {
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
        const r = await measureClosed({ wrk, running, contender: c.name, upstream, connections, seconds: closedSeconds });
        closed.push(r);
        console.log(
          `  ${c.name.padEnd(18)} ${String(connections).padStart(6)} conns  goodput ${Math.round(r.goodput).toString().padStart(5)}/s  refused ${Math.round(r.refusedPerS).toString().padStart(6)}/s ` +
            `(Retry-After ${Number.isFinite(r.retryAfterShare) ? `${(r.retryAfterShare * 100).toFixed(0)}%` : '—'}, probe p99 ${Number.isFinite(r.probeRefusalP99) ? r.probeRefusalP99.toFixed(1) : '—'} ms from ${(r.probeFromS ?? NaN).toFixed(1)} s${r.probeAfterAccept === true ? '' : ' (wrk not all accepted)'})  ` +
            `errors ${r.errors} timeouts ${r.timeouts}  CPU ${Math.round(r.cpuPct)}%${r.cpuPctByProcess.length > 1 ? ` (${r.cpuPctByProcess.map((c) => Math.round(c)).join('/')})` : ''}, ${Math.round(r.cpuUsPerAnswer)} µs per answer  upstream CPU ${Math.round(r.upstreamCpuPct ?? NaN)}% machine CPU ${Math.round(r.machineCpuPct ?? NaN)}%  upstream peak in-flight ${r.upstreamPeakInFlight}, mean in service ${r.upstreamMeanInService.toFixed(1)}` +
            (r.pacer === undefined ? '' : `\n    pacer per s: pauses ${Math.round(r.pacer.pauses)} (repaused ${Math.round(r.pacer.repaused)}), woken ${Math.round(r.pacer.woken)}, ran out ${Math.round(r.pacer.ranOut)}, refusals not paced ${Math.round(r.pacer.unpaced)}`) +
            (r.slots === undefined ? '' : `\n    permits (gateway /status, ${r.slots.samples} samples): mean in flight ${r.slots.meanInFlight.toFixed(1)} (upstream in service ${r.upstreamMeanInService.toFixed(1)}: turnaround ${(r.slots.meanInFlight - r.upstreamMeanInService).toFixed(1)} slots), mean queued ${r.slots.meanQueued.toFixed(1)}, queue empty with a permit free ${(r.slots.emptyWithFree * 100).toFixed(0)}% of samples`) +
            (r.slots?.perWorker === undefined ? '' : `\n    per worker: ${r.slots.perWorker.map((w, i) => `#${i} connections ${w.meanConnections.toFixed(0)}, limit ${w.meanLimit.toFixed(1)}, in flight ${w.meanInFlight.toFixed(1)}, queued ${w.meanQueued.toFixed(1)}, idle while another queued ${(w.idleWhileOtherQueued * 100).toFixed(0)}%`).join('; ')}`),
        );
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
          console.log(
            `  ${c.name.padEnd(16)} ${String(connections).padStart(5)} conns  upstream: ${r.admitted} in ${r.spanS.toFixed(3)} s of ${Math.round(r.allowed)} allowed (${(r.deviation * 100).toFixed(2)}%)  ` +
              `wrk: ${r.wrkAdmitted} of ${Math.round(r.wrkAllowed)} (${(r.wrkDeviation * 100).toFixed(2)}%)  refused ${r.refused}  offered ${Math.round(r.offeredPerS)}/s  ceiling ${Math.round(r.ceilingPerS)}/s${r.clientBound ? ' CLIENT-BOUND' : ''}  ` +
              `max gap ${r.maxGapMs.toFixed(1)} ms, ${Math.round(r.overflowed)} tokens overflowed (${Math.round(r.overflowedAllHeld)} while every connection waited on the upstream; shortfall ${Math.round(r.allowed - r.admitted)}), upstream max ${r.maxUpstreamMs.toFixed(1)} ms, refused with >= half a burst in the bucket ${r.refusedWithTokens} of ${r.refusalsInSpan}  pauses ${r.pauses}`,
          );
        }
      });
    }
  } finally {
    await fast.stop();
    live.delete(fast);
  }
}

function versionOf(binary: string): string {
  const r = spawnSync(binary, binary === 'nginx' ? ['-v'] : ['-v'], { encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`;
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? 'unknown';
}

try {
  await main();
} finally {
  await Promise.allSettled([...live].map((r) => r.stop()));
}
