/**
 * `npm run bench:refusal` — what one refused request costs the gateway process in CPU, next
 * to what it costs a bare node:http server that answers every request 503 at once (the
 * "node 503 floor" of bench:gateway), in the same run.
 *
 * Made for a busy machine: CPU time is read from /proc/<pid>/stat (utime, stime) of each
 * server, per request answered, and the two servers are loaded at the same time, each by
 * its own wrk, so that whatever else the machine does falls on both alike; the ratio sluice /
 * floor is taken per round and the median reported. User time (the process's own work) is
 * reported apart from system time (the kernel's: the same read and write per request for
 * both, and the scheduling a busy machine inflates).
 *
 * The gateway refuses nearly everything, as under a retry storm: one route, concurrency 1
 * with a queue (10, queue timeout 100 ms: early refusal on, as the gateway builds it) in front
 * of an upstream serving one request at a time in 100 ms — about 10 admitted a second, the
 * rest refused 503 + Retry-After at once (an early `queue_timeout` refusal). Refused
 * connections are not paused (server.pauseRefused 0), so every request is a refusal's full
 * cost and not a pause's; `--pause` keeps the default pausing.
 *
 * "sluice wait", loaded at the same time: refusals after a wait, the other path (at 8x the
 * queue holds thousands, each waiter until its queue timeout). Its own upstream never answers
 * within the run (one request in service for 10 min, upstream timeout 1 h): the one slot stays
 * taken, no service time is ever measured, so nothing is refused early — every other request
 * queues (queue 4000) and is refused 503 queue_timeout when its 100 ms are up. Its wrk has
 * `--wait-connections` connections (each answered 10 times a second).
 *
 * The load is wrk (Debian package `wrk`), one thread and `--connections` connections per
 * server, each sending its next request when answered (a closed loop keeping both busy).
 *
 *   npm run bench:refusal                                  5 rounds of 5 s, 50 connections per server
 *   npm run bench:refusal -- --rounds 9 --seconds 4 --connections 100
 *   npm run bench:refusal -- --prof /tmp/prof              both servers under --cpu-prof (/tmp/prof/sluice, /tmp/prof/floor)
 *   npm run bench:refusal -- --node-flags --perf-basic-prof   more Node flags for both servers (then perf record -p <pid>)
 *   npm run bench:refusal -- --wait-connections 1000       more waiters at once for "sluice wait" (10 refusals/s each)
 *   npm run bench:refusal -- --baseline . --sluice-flags=--max-semi-space-size=64
 *                                                          Node flags for this checkout's gateways only (not the floor, not
 *                                                          the baseline): with --baseline . the flags' own effect, same code
 *   npm run bench:refusal -- --pause                       with server.pauseRefused at its default
 *   npm run bench:refusal -- --baseline /work/main         also that checkout's gateway, loaded at the same time:
 *                                                          before/after as a ratio taken under the same conditions
 *   npm run bench:refusal -- --admitted --baseline /work/main   the other path: what an ADMITTED (proxied) request costs
 *   npm run bench:refusal -- --admitted --warmup 1000      rounds right after 1,000 answers of warm-up (a fresh process, JIT
 *                                                          compilation counted), as bench:gateway's 1 s overhead warm-up
 *
 * `--admitted`: nothing is refused. Each gateway (concurrency 50, queue 100, queue timeout 50 ms,
 * the `sluice gateway` a user starts with --concurrency 50 --queue-timeout 50ms) and the floor —
 * a bare node:http proxy with a keep-alive agent and no admission control at all
 * (bench/gateway/bare-proxy.ts) — proxy to one upstream that serves 1000 at once in
 * `--service-ms` (10 ms) each, so none of them ever waits on it; each is loaded by wrk with
 * `--connections` (default 10 here): about connections × 1000 / service-ms requests a second
 * (1,000/s on a quiet machine), a modest fixed load. Instead of "sluice wait", "sluice queued":
 * the same gateway with half as many slots as wrk has connections (5 for 10), so that every
 * request waits in the queue (timeout 1 s, so that a busy machine's slow turns refuse nothing)
 * for a slot before it is proxied (the path of the closed-loop
 * benchmark, where a slot's turnaround is the next queued request's dispatch); it serves
 * about half as many requests a second, so its fixed costs (timers, samplers) weigh more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DemoGatewaySettings } from '../src/demo/gateway-config.js';
import { ServerChild } from '../src/demo/server-child.js';
import type { ServerSpec } from '../src/demo/server-process.js';
import { which } from './gateway/external.js';
import { startOrder, stillCold, warmUpLine } from './lib/refusal-rounds.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string' },
    'wait-connections': { type: 'string', default: '500' },
    admitted: { type: 'boolean', default: false },
    'service-ms': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '40000' },
    pause: { type: 'boolean', default: false },
    prof: { type: 'string' },
    'node-flags': { type: 'string' },
    'sluice-flags': { type: 'string' },
    baseline: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${/\*\*([\s\S]*?)\*\//.exec((await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8'))?.[1]?.replace(/^ \* ?/gm, '') ?? ''}\n`);
  process.exit(0);
}
function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected an integer >= 1, received ${JSON.stringify(v)}`);
  return n;
}
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ). */
const TICKS_PER_S = 100;

/** CPU time of a process so far, ms: user (JavaScript, V8, libuv) and system (the kernel: syscalls, TCP, scheduling). */
function cpuOf(pid: number): { user: number; sys: number } {
  // Fields after the command name (which may hold spaces): state(3) ... utime(14) stime(15).
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(rest[11]) * 1000) / TICKS_PER_S, sys: (Number(rest[12]) * 1000) / TICKS_PER_S };
}

const SECONDS = positiveInt('seconds', values.seconds);
const ROUNDS = positiveInt('rounds', values.rounds);
const ADMITTED = values.admitted;
const CONNECTIONS = positiveInt('connections', values.connections ?? (ADMITTED ? '10' : '50'));
const SERVICE_MS = positiveInt('service-ms', values['service-ms']);
const WAIT_CONNECTIONS = positiveInt('wait-connections', values['wait-connections']);
/**
 * Load before the first round, not counted, until every server has answered this many: code
 * compiled (JIT time counts as CPU; rounds right after a short warm-up cost up to 10x), the
 * wait estimate sampled. By answers, not time: a busy machine serves fewer per second.
 * `--warmup <answers>` (default 40000; 0: none) — a small one shows what a fresh process costs.
 */
const WARMUP_ANSWERS = values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup);
const WARMUP_STEP_S = 2;
const WARMUP_MAX_STEPS = 15;
/**
 * How long each server may take to start, ms. Five gateways and proxies start at once, each
 * compiling its TypeScript (tsx) and the config schema: on a busy 2-core host (load 15) that
 * took more than ServerChild's default 20 s, and the run ended before it began.
 */
const START_TIMEOUT_MS = 90_000;

// Counts answers by kind and prints them as one JSON line.
const SCRIPT = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0 refused = 0 ra = 0 end
function response(status, headers, body)
  n = n + 1
  if status == 503 or status == 429 then
    refused = refused + 1
    if headers["Retry-After"] ~= nil or headers["retry-after"] ~= nil then ra = ra + 1 end
  end
end
function done(summary, latency, requests)
  local n, refused, ra = 0, 0, 0
  for _, t in ipairs(threads) do n = n + t:get("n") refused = refused + t:get("refused") ra = ra + t:get("ra") end
  io.write(string.format('WRK-JSON {"answers":%d,"refused":%d,"retryAfter":%d}\\n', n, refused, ra))
end
`;

interface WrkCount {
  readonly answers: number;
  readonly refused: number;
  readonly retryAfter: number;
}

/** wrk once; a run that printed nothing at all (seen once on a busy machine, exit 0) is run again, once. */
async function runWrk(wrk: string, script: string, url: string, seconds: number, connections: number): Promise<WrkCount> {
  try {
    return await runWrkOnce(wrk, script, url, seconds, connections);
  } catch (err) {
    if (!(err instanceof Error && err.message.endsWith('(exit 0): '))) throw err;
    console.log(`  (wrk printed nothing against ${url}; running it again)`);
    return runWrkOnce(wrk, script, url, seconds, connections);
  }
}

function runWrkOnce(wrk: string, script: string, url: string, seconds: number, connections: number): Promise<WrkCount> {
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, ['-t1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = /WRK-JSON (\{.*\})/.exec(out)?.[1];
      if (line === undefined || code !== 0) return reject(new Error(`wrk printed no result (exit ${code}): ${out.trim()}`));
      resolve(JSON.parse(line) as WrkCount);
    });
  });
}

interface Sample extends WrkCount {
  readonly contender: string;
  readonly round: number;
  readonly cpuMs: number;
  /** CPU ms (user + system) of the server process per 1,000 answers. */
  readonly cpuPer1k: number;
  /** User CPU ms per 1,000 answers: the process's own work, without the kernel's. */
  readonly userPer1k: number;
  readonly load1: number;
}

const FLOOR = ADMITTED ? 'bare node proxy' : 'node 503 floor';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const wrk = which('wrk');
  if (wrk === undefined) throw new Error('wrk is not installed (apt-get install wrk): bench:refusal needs it');
  if (process.platform !== 'linux') throw new Error('bench:refusal reads CPU time from /proc: Linux only');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-refusal-'));
  const script = join(dir, 'count.lua');
  writeFileSync(script, SCRIPT);
  const serverFile = fileURLToPath(new URL('../src/demo/server-process.ts', import.meta.url));
  const proxyFile = fileURLToPath(new URL('./gateway/proxy-process.ts', import.meta.url));
  const children: ServerChild[] = [];
  const start = (c: ServerChild): ServerChild => (children.push(c), c);
  process.once('SIGINT', () => void Promise.allSettled(children.map((c) => c.stop())).finally(() => process.exit(130)));
  try {
    // --admitted: an upstream that never makes a request wait (1000 at once), and no wait row.
    const upstreamSpec = ADMITTED ? { concurrency: 1000, serviceMs: SERVICE_MS } : { concurrency: 1, serviceMs: 100 };
    const upstream = start(new ServerChild(serverFile, [JSON.stringify({ upstream: upstreamSpec } satisfies ServerSpec)], { name: 'upstream', startTimeoutMs: START_TIMEOUT_MS }));
    const { url: upstreamUrl } = await upstream.ready;
    // The wait row's upstream: its one slot taken for longer than the run (see the module comment).
    const stuck = ADMITTED ? undefined : start(new ServerChild(serverFile, [JSON.stringify({ upstream: { concurrency: 1, serviceMs: 600_000 } } satisfies ServerSpec)], { name: 'stuck upstream', startTimeoutMs: START_TIMEOUT_MS }));
    const stuckUrl = (await stuck?.ready)?.url ?? '';
    const pausing = values.pause ? {} : { pauseRefusedMs: 0 };
    const settings: DemoGatewaySettings = ADMITTED ? { mode: 'fixed', concurrency: 50, queue: 100, queueTimeoutMs: 50 } : { mode: 'fixed', concurrency: 1, queue: 10, queueTimeoutMs: 100, ...pausing };
    const waitSettings: DemoGatewaySettings = { mode: 'fixed', concurrency: 1, queue: 4000, queueTimeoutMs: 100, upstreamTimeoutMs: 3_600_000, ...pausing };
    const flags = values['node-flags']?.split(' ').filter((f) => f !== '') ?? [];
    const sluiceFlags = values['sluice-flags']?.split(' ').filter((f) => f !== '') ?? [];
    const profArgs = (name: string): string[] => [...flags, ...(name.startsWith('sluice') ? sluiceFlags : []), ...(values.prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(values.prof, name)}`])];
    // --admitted's second row: half as many slots as connections, so that every request waits for one (the queued path).
    // Its queue timeout is long (1 s): on a busy machine 50 ms waits run out, and the row would mix refusals into what it measures.
    const queuedSettings: DemoGatewaySettings = { mode: 'fixed', concurrency: Math.max(1, CONNECTIONS >> 1), queue: 100, queueTimeoutMs: 1000 };
    const second = ADMITTED ? { suffix: ' queued', upstreamUrl, settings: queuedSettings, connections: CONNECTIONS } : { suffix: ' wait', upstreamUrl: stuckUrl, settings: waitSettings, connections: WAIT_CONNECTIONS };
    const gateways = [{ suffix: '', upstreamUrl, settings, connections: CONNECTIONS }, second];
    const spawned: { name: string; child: ServerChild; connections: number }[] = [];
    for (const g of gateways) spawned.push({ name: `sluice${g.suffix}`, child: start(new ServerChild(proxyFile, ['sluice', g.upstreamUrl, JSON.stringify(g.settings)], { name: `sluice${g.suffix}`, startTimeoutMs: START_TIMEOUT_MS, execArgv: profArgs(`sluice${g.suffix.replace(' ', '-')}`) })), connections: g.connections });
    spawned.push({ name: FLOOR, child: start(new ServerChild(proxyFile, [ADMITTED ? 'bare' : 'refuser', upstreamUrl], { name: FLOOR, startTimeoutMs: START_TIMEOUT_MS, execArgv: profArgs('floor') })), connections: CONNECTIONS });
    if (values.baseline !== undefined) {
      // The other checkout's own bench entry, src and settings type: its gateway as it is there.
      const file = join(resolve(values.baseline), 'bench/gateway/proxy-process.ts');
      for (const g of gateways) {
        const name = `baseline${g.suffix}`;
        spawned.push({ name, child: start(new ServerChild(file, ['sluice', g.upstreamUrl, JSON.stringify(g.settings)], { name, startTimeoutMs: START_TIMEOUT_MS, execArgv: profArgs(name.replace(' ', '-')) })), connections: g.connections });
      }
    }
    const contenders: { name: string; child: ServerChild; url: string; connections: number }[] = [];
    for (const c of spawned) contenders.push({ ...c, url: (await c.child.ready).url });
    console.log(`pids: ${contenders.map((c) => `${c.name} ${c.child.pid}`).join(', ')}`);
    console.log(`bench:refusal — Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s, every server at once, each with wrk -t1 -c${CONNECTIONS}${ADMITTED ? `; admitted requests only (upstream ${SERVICE_MS} ms, 1000 at once)` : ` (the wait rows -c${WAIT_CONNECTIONS}); pausing ${values.pause ? 'at its default' : 'off'}`};${sluiceFlags.length > 0 ? ` this checkout's gateways with ${sluiceFlags.join(' ')};` : ''} load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
    console.log('');
    const warmed = new Map<string, number>(contenders.map((c) => [c.name, 0]));
    for (let step = 0; step < WARMUP_MAX_STEPS; step++) {
      const cold = stillCold(warmed, WARMUP_ANSWERS);
      if (cold.length === 0) break;
      const loaded = startOrder(contenders.filter((c) => cold.includes(c.name)), step + 1);
      await Promise.all(loaded.map(async (c) => warmed.set(c.name, warmed.get(c.name)! + (await runWrk(wrk, script, c.url, WARMUP_STEP_S, c.connections)).answers)));
    }
    console.log(warmUpLine(warmed, WARMUP_ANSWERS));
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const measured = await Promise.all(
        startOrder(contenders, round).map(async (c) => {
          const pid = c.child.pid!;
          const before = cpuOf(pid);
          const w = await runWrk(wrk, script, c.url, SECONDS, c.connections);
          const after = cpuOf(pid);
          const cpuMs = after.user + after.sys - before.user - before.sys;
          return { ...w, contender: c.name, round, cpuMs, cpuPer1k: (cpuMs / w.answers) * 1000, userPer1k: ((after.user - before.user) / w.answers) * 1000, load1: loadavg()[0]! } satisfies Sample;
        }),
      );
      for (const s of measured) {
        samples.push(s);
        console.log(
          `  round ${round}  ${s.contender.padEnd(16)} ${s.answers} answers (${Math.round(s.answers / SECONDS)}/s), refused ${((s.refused / s.answers) * 100).toFixed(1)}%, ` +
            `Retry-After on ${s.refused === 0 ? '—' : `${((s.retryAfter / s.refused) * 100).toFixed(1)}%`}; CPU ${Math.round(s.cpuMs)} ms = ${s.cpuPer1k.toFixed(1)} ms per 1k (user ${s.userPer1k.toFixed(1)}); load ${s.load1.toFixed(2)}`,
        );
      }
    }
    const per = (name: string, k: 'cpuPer1k' | 'userPer1k'): number[] => samples.filter((s) => s.contender === name).map((s) => s[k]);
    const ratio = (a: string, b: string, k: 'cpuPer1k' | 'userPer1k'): string => {
      const ratios = [...Array(ROUNDS).keys()].map((r) => per(a, k)[r]! / per(b, k)[r]!);
      return `${a} / ${b} ${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`;
    };
    console.log('');
    for (const [k, what] of [
      ['cpuPer1k', 'CPU ms (user + system)'],
      ['userPer1k', 'user CPU ms'],
    ] as const) {
      console.log(`${what} per 1k ${ADMITTED ? 'admitted' : 'refused'} requests, median of ${ROUNDS}: ${contenders.map((c) => `${c.name} ${median(per(c.name, k)).toFixed(1)}`).join(', ')}`);
      for (const g of gateways) {
        console.log(`  ${ratio(`sluice${g.suffix}`, FLOOR, k)}`);
        if (values.baseline !== undefined) console.log(`  ${ratio(`baseline${g.suffix}`, FLOOR, k)}\n  ${ratio(`sluice${g.suffix}`, `baseline${g.suffix}`, k)}`);
      }
    }
    console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
