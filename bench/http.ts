/**
 * `npx tsx bench/http.ts` — HTTP admission overhead on loopback, in one run:
 *
 *   bare Fastify   vs Fastify + @fastify/rate-limit      vs Fastify + sluice (rate limit + concurrency)
 *   bare Express   vs Express + express-rate-limit       vs Express + sluice
 *
 * Each server runs in its own child process (bench/http-server.ts, forked), so it does not
 * share an event loop with the load generator (autocannon, programmatic, in this process).
 * Limits are set far above the load, so the figures are the limiter's overhead; every
 * response is checked to be a 2xx. Contenders run in rounds, in an order that rotates and
 * flips each round, and each figure is the median over rounds; ratios are taken within a
 * round. Every child is stopped by its PID. On Linux with 2+ cores the load generator is
 * pinned to CPU 0 and each server to CPU 1 (taskset), so the two never take turns on one
 * core — unpinned, the figures on a 2-core machine swing by 2x with the scheduler.
 *
 *   npx tsx bench/http.ts              3 rounds x 4 s per contender, 50 connections (~100 s)
 *   npx tsx bench/http.ts --quick      1 round  x 2 s
 *
 * Everything printed is saved to bench/results/http-<commit>-<busy|calm>.md (busy: the 1-minute
 * load average at start above half the cores), with the command and the load at the top.
 *
 * Goals (from the issue): sluice >= 0.95 x the bare framework, and >= the framework's own plugin.
 */
import autocannon from 'autocannon';
import { execSync, fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gitRevision } from './lib/machine.js';
import { CONTENDERS } from './http-server.js';
import type { HttpContender } from './http-server.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const DURATION_S = quick ? 2 : 4;
const WARMUP_S = 1;
const CONNECTIONS = 50;
const serverFile = fileURLToPath(new URL('./http-server.ts', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));
const loadAtStart = loadavg().map((x) => x.toFixed(2));
const busy = loadavg()[0]! > cpus().length / 2;

/** What is printed, kept for the results file. */
const lines: string[] = [];
function out(line = ''): void {
  lines.push(line);
  console.log(line);
}

interface Sample {
  readonly rps: number;
  /** Server CPU time per request, µs (user + system of the server process). */
  readonly cpuUs: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function spawnServer(name: HttpContender): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(serverFile, [name], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: server did not start in 15 s`)), 15_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`${name}: server exited with ${code}`)));
  });
  if (PINNED && child.pid !== undefined) pin(child.pid, SERVER_CPU);
  return { child, port };
}

const LOADGEN_CPU = 0;
const SERVER_CPU = 1;
/** Pin a process (all its threads) to one CPU; false when taskset is not there. */
function pin(pid: number, cpu: number): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}
const PINNED = process.platform === 'linux' && cpus().length >= 2 && pin(process.pid, LOADGEN_CPU);

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function load(port: number, seconds: number): Promise<Omit<Sample, 'cpuUs'> & { total: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds });
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.requests.total };
}

async function measure(name: HttpContender): Promise<Sample> {
  const { child, port } = await spawnServer(name);
  try {
    await load(port, WARMUP_S);
    child.send('start');
    const r = await load(port, DURATION_S);
    const cpu = new Promise<number>((resolve) => child.once('message', (m: { cpuUs: number }) => resolve(m.cpuUs)));
    child.send('stop');
    const { total, ...rest } = r;
    return { ...rest, cpuUs: (await cpu) / Math.max(1, total) };
  } finally {
    await stop(child);
  }
}

function order<T>(xs: readonly T[], r: number): T[] {
  const k = r % xs.length;
  const rotated = [...xs.slice(k), ...xs.slice(0, k)];
  return r % 2 === 1 ? rotated.reverse() : rotated;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const started = performance.now();
  out(`HTTP admission overhead — Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
  out(`loopback, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per contender, ${ROUNDS} round(s); limits far above the load (overhead, not refusals)`);
  out(PINNED ? `load generator pinned to CPU ${LOADGEN_CPU}, servers to CPU ${SERVER_CPU}\n` : 'not pinned (no taskset or one core): expect more spread\n');
  const samples = new Map<HttpContender, Sample[]>(CONTENDERS.map((c) => [c, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of order(CONTENDERS, r)) {
      const s = await measure(name);
      samples.get(name)!.push(s);
      out(`  round ${r + 1}  ${name.padEnd(28)} ${s.rps.toFixed(0).padStart(7)} req/s  ${s.cpuUs.toFixed(1).padStart(5)} µs CPU/req  p99 ${s.p99} ms${s.non2xx + s.errors > 0 ? `  (${s.non2xx} non-2xx, ${s.errors} errors)` : ''}`);
    }
  }
  const rps = (c: HttpContender): number => median(samples.get(c)!.map((s) => s.rps));
  const p99 = (c: HttpContender): number => median(samples.get(c)!.map((s) => s.p99));
  const cpu = (c: HttpContender): number => median(samples.get(c)!.map((s) => s.cpuUs));
  /** Median over rounds of a / b within each round (throughput). */
  const ratio = (a: HttpContender, b: HttpContender): number => median(samples.get(a)!.map((s, i) => s.rps / samples.get(b)![i]!.rps));
  /** The same for server CPU efficiency: requests per CPU-second of a over those of b. */
  const cpuRatio = (a: HttpContender, b: HttpContender): number => median(samples.get(a)!.map((s, i) => samples.get(b)![i]!.cpuUs / s.cpuUs));
  const refusedOrFailed = [...samples.values()].flat().reduce((n, s) => n + s.non2xx + s.errors, 0);

  out('\n| contender | req/s (median) | p99 ms | ÷ bare | sluice ÷ this | server µs CPU/req | ÷ bare (CPU) | sluice ÷ this (CPU) |');
  out('|:--|--:|--:|--:|--:|--:|--:|--:|');
  const groups: [HttpContender, HttpContender, HttpContender][] = [
    ['fastify', 'fastify+@fastify/rate-limit', 'fastify+sluice'],
    ['express', 'express+express-rate-limit', 'express+sluice'],
  ];
  for (const [bare, plugin, sluice] of groups) {
    for (const c of [bare, plugin, sluice]) {
      const vsBare = c === bare ? '1' : ratio(c, bare).toFixed(3);
      const sluiceOver = c === sluice ? '' : ratio(sluice, c).toFixed(3);
      const cpuVsBare = c === bare ? '1' : cpuRatio(c, bare).toFixed(3);
      const cpuSluiceOver = c === sluice ? '' : cpuRatio(sluice, c).toFixed(3);
      out(`| ${c} | ${rps(c).toFixed(0)} | ${p99(c)} | ${vsBare} | ${sluiceOver} | ${cpu(c).toFixed(1)} | ${cpuVsBare} | ${cpuSluiceOver} |`);
    }
  }
  out('\nGoals:');
  for (const [bare, plugin, sluice] of groups) {
    for (const [what, f] of [
      ['throughput', ratio],
      ['server CPU per request', cpuRatio],
    ] as const) {
      const overhead = 1 - f(sluice, bare);
      const vsPlugin = f(sluice, plugin);
      out(
        `  ${sluice}, ${what}: overhead ${(overhead * 100).toFixed(1)} % of bare ${overhead <= 0.05 ? 'met' : 'MISSED'} (goal <= 5 %); ${vsPlugin.toFixed(3)}x ${plugin} ${vsPlugin >= 1 ? 'met' : 'MISSED'} (goal >= 1)`,
      );
    }
  }
  out(`\n${refusedOrFailed === 0 ? 'Every response was a 2xx.' : `WARNING: ${refusedOrFailed} non-2xx responses or errors: the figures include refusals.`}`);
  out(`Total ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  const commit = gitRevision((cmd) => execSync(cmd, { cwd: root, encoding: 'utf8' }));
  const name = `http-${commit}-${busy ? 'busy' : 'calm'}.md`;
  const header = [
    `# \`npx tsx bench/http.ts${quick ? ' --quick' : ''}\` at ${commit}, ${new Date().toISOString()}`,
    '',
    `Load average at start (1/5/15 min): ${loadAtStart.join(' / ')} on ${cpus().length} cores${busy ? ' — the machine was busy' : ''}.`,
    '',
    '```',
  ];
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/${name}`, [...header, ...lines, '```', ''].join('\n'));
  console.log(`saved bench/results/${name}`);
}

await main();
