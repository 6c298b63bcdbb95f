/**
 * `npm run bench:hostile` — what slow and hostile clients take from well-behaved ones
 * (issue 10, finding 2). The gateway (spawned CLI, concurrency 50 with a queue) in front of
 * an upstream (its own process) that serves each request in 100 ms, so 50 slots are
 * 500 requests/s. Well-behaved clients (100 keep-alive connections, closed loop; one request
 * in five a POST with a 1 KiB body) run throughout; the run has two measured phases:
 *
 *   calm     the good clients alone
 *   hostile  the same good clients beside 50 slow uploaders (a POST body at 1 byte/s) and
 *            50 non-readers of a 20 MB response (they never read a byte)
 *
 * and reports the good clients' goodput in each, and the share of the calm goodput they kept
 * under attack (goal: >= 95%). Also the gateway's own account from /status: slots in
 * flight, memory held for bodies and responses, slow readers released. Bounded: about 45 s.
 * Results: bench/results/hostile-latest.{json,md}.
 *
 *   npm run bench:hostile
 *   npm run bench:hostile -- --phase 5 --no-save
 */
import { execSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gitRevision, machineInfo, ownVersion } from './lib/machine.js';
import { renderTable } from './lib/table.js';

const SERVICE_MS = 100;
const SLOTS = 50;
const GOOD_CONNECTIONS = 100;
const SLOW_UPLOADERS = 50;
const NON_READERS = 50;
const BIG_BYTES = 20 * 1024 * 1024;
const GOAL_SHARE = 0.95;

const { values } = parseArgs({
  options: {
    phase: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    'serve-upstream': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

interface Sample {
  readonly at: number;
  readonly status: number;
  readonly ms: number;
}

interface PhaseResult {
  readonly phase: 'calm' | 'hostile';
  readonly seconds: number;
  readonly ok: number;
  readonly goodputPerS: number;
  readonly refused: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const phaseS = values.phase === undefined ? 15 : Number(values.phase);
  if (!Number.isFinite(phaseS) || phaseS < 2 || phaseS > 20) throw new Error(`--phase: expected seconds in [2, 20], received ${JSON.stringify(values.phase)}`);
  const children: ChildProcess[] = [];
  const sockets = new Set<Socket>();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hostile-'));
  // Hard bound: whatever happens, nothing outlives a minute.
  const deadline = setTimeout(() => {
    process.stderr.write('bench:hostile: over 60 s, stopping\n');
    stopAll();
    process.exit(1);
  }, 60_000);
  const stopAll = (): void => {
    for (const s of sockets) s.destroy();
    for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  try {
    const me = fileURLToPath(import.meta.url);
    const upstream = spawn(process.execPath, ['--import', 'tsx', me, '--serve-upstream'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(upstream);
    const upPort = Number(await firstLine(upstream));
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
log: { level: info }
upstreams:
  app: { url: http://127.0.0.1:${upPort}, timeout: 30s }
routes:
  - path: /
    policy: { concurrency: { limit: ${SLOTS}, queue: 500, queueTimeout: 5s } }
`,
    );
    const root = fileURLToPath(new URL('..', import.meta.url));
    const gw = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gw);
    const listening = JSON.parse(await lineMatching(gw, '"listening"')) as { url: string; adminUrl: string };
    const url = new URL(listening.url);
    const port = Number(url.port);

    // Good clients: closed loop on keep-alive connections, from now to the end.
    const samples: Sample[] = [];
    let running = true;
    const agent = new Agent({ keepAlive: true, maxSockets: GOOD_CONNECTIONS });
    const loops = Array.from({ length: GOOD_CONNECTIONS }, async (_, i) => {
      let n = 0;
      while (running) {
        const post = (n++ + i) % 5 === 0;
        const t0 = performance.now();
        const status = await once(agent, port, post);
        samples.push({ at: performance.now(), status, ms: performance.now() - t0 });
        if (status !== 200) await sleep(50); // a refused or failed client backs off a little
      }
    });

    const warmupMs = 2000;
    await sleep(warmupMs);
    const calmFrom = performance.now();
    await sleep(phaseS * 1000);
    const calmTo = performance.now();

    // Hostile clients join, and keep coming back when they are cut off.
    let hostile = true;
    const hostiles = { uploads: 0, downloads: 0 };
    const slowUploader = (): void => {
      if (!hostile) return;
      hostiles.uploads++;
      const s = connect(port, '127.0.0.1');
      sockets.add(s);
      s.on('error', () => undefined);
      s.write('POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: 1000\r\n\r\n');
      const drip = setInterval(() => s.writable && s.write('x'), 1000);
      s.once('close', () => {
        clearInterval(drip);
        sockets.delete(s);
        slowUploader();
      });
    };
    const nonReader = (): void => {
      if (!hostile) return;
      hostiles.downloads++;
      const s = connect(port, '127.0.0.1');
      sockets.add(s);
      s.on('error', () => undefined);
      s.pause(); // never reads a byte
      s.write('GET /big HTTP/1.1\r\nHost: bench\r\n\r\n');
      s.once('close', () => {
        sockets.delete(s);
        nonReader();
      });
    };
    for (let i = 0; i < SLOW_UPLOADERS; i++) slowUploader();
    for (let i = 0; i < NON_READERS; i++) nonReader();
    await sleep(3000); // they settle: uploads trickling, downloads stalled
    const hostileFrom = performance.now();
    await sleep(phaseS * 1000);
    const hostileTo = performance.now();
    const status = JSON.parse(await text(`${listening.adminUrl}/status`)) as GatewayStatusView;
    hostile = false;
    running = false;
    for (const s of sockets) s.destroy();
    await Promise.all(loops);
    agent.destroy();

    const calm = phase('calm', samples, calmFrom, calmTo);
    const attacked = phase('hostile', samples, hostileFrom, hostileTo);
    const share = attacked.goodputPerS / calm.goodputPerS;
    const gate = status.policies[0]?.gates.find((g) => g.kind === 'concurrency');
    const record = {
      bench: 'hostile',
      command: `npm run bench:hostile${values.phase === undefined ? '' : ` -- --phase ${values.phase}`}`,
      date: new Date().toISOString(),
      revision: gitRevision((cmd) => execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
      version: ownVersion(),
      machine: machineInfo(),
      setup: { slots: SLOTS, serviceMs: SERVICE_MS, capacityPerS: (SLOTS * 1000) / SERVICE_MS, goodConnections: GOOD_CONNECTIONS, slowUploaders: SLOW_UPLOADERS, nonReaders: NON_READERS, bigBytes: BIG_BYTES, phaseS },
      phases: [calm, attacked],
      shareOfCalm: round(share, 3),
      goal: { shareOfCalm: GOAL_SHARE, met: share >= GOAL_SHARE },
      hostileConnections: hostiles,
      gatewayAtEnd: {
        inFlight: gate?.inFlight,
        queued: gate?.queued,
        counters: status.counters,
        memory: status.memory,
        upstreamSockets: status.upstreams[0],
      },
    };
    const table = renderTable({
      title: 'good clients',
      columns: ['phase', 'good requests ok', 'goodput/s', 'refused', 'failed', 'p50 ms', 'p99 ms'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: [calm, attacked].map((p) => [p.phase, String(p.ok), p.goodputPerS.toFixed(1), String(p.refused), String(p.failed), p.p50Ms.toFixed(0), p.p99Ms.toFixed(0)]),
    });
    const summary =
      `good clients kept ${(share * 100).toFixed(1)}% of their calm goodput under ${SLOW_UPLOADERS} slow uploaders + ${NON_READERS} non-readers of ${BIG_BYTES / 2 ** 20} MB ` +
      `(goal >= ${GOAL_SHARE * 100}%: ${share >= GOAL_SHARE ? 'met' : 'NOT met'})\n` +
      `gateway at the end: ${gate?.inFlight ?? '?'} of ${SLOTS} slots in flight, ${status.counters.slowReadersHeld} slow readers held (upstream waiting), ${status.counters.slowReadersCut} cut for their slots, ` +
      `${status.counters.bodyTimeouts} uploads timed out (408), bodies held ${status.memory.bodies.used} B (peak ${status.memory.bodies.peak} B), ` +
      `responses held ${(status.memory.responses.used / 2 ** 20).toFixed(1)} MiB (peak ${(status.memory.responses.peak / 2 ** 20).toFixed(1)} MiB)\n`;
    process.stdout.write(`\n${table}\n${summary}`);
    if (!values['no-save']) {
      const out = fileURLToPath(new URL('./results', import.meta.url));
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'hostile-latest.json'), `${JSON.stringify(record, null, 2)}\n`);
      writeFileSync(
        join(out, 'hostile-latest.md'),
        `# bench:hostile — ${record.date}\n\n\`${record.command}\` at ${record.revision} on ${record.machine.cpu} (${record.machine.cores} cores, load ${record.machine.loadAverage.join(' ')})\n\n` +
          `Gateway concurrency ${SLOTS} (queue 500, 5 s), upstream ${SERVICE_MS} ms per request (${record.setup.capacityPerS} requests/s through ${SLOTS} slots); ` +
          `${GOOD_CONNECTIONS} good keep-alive connections, closed loop, one request in five a POST with 1 KiB; ${phaseS} s per phase.\n\n${table}\n${summary}`,
      );
      process.stdout.write('saved bench/results/hostile-latest.{json,md}\n');
    }
  } finally {
    clearTimeout(deadline);
    stopAll();
  }
}

const USAGE = `${(/\/\*\*([\s\S]*?)\*\//.exec(readFileSync(fileURLToPath(import.meta.url), 'utf8'))?.[1] ?? '').replace(/^ \* ?/gm, '')}\n`;

interface GatewayStatusView {
  readonly counters: Record<string, number> & { slowReadersHeld: number; slowReadersCut: number; bodyTimeouts: number };
  readonly memory: { readonly bodies: { used: number; peak: number }; readonly responses: { used: number; peak: number } };
  readonly policies: readonly { readonly gates: readonly { readonly kind: string; readonly inFlight: number; readonly queued: number }[] }[];
  readonly upstreams: readonly unknown[];
}

function phase(name: 'calm' | 'hostile', samples: readonly Sample[], from: number, to: number): PhaseResult {
  const within = samples.filter((s) => s.at >= from && s.at < to);
  const ok = within.filter((s) => s.status === 200);
  const ms = ok.map((s) => s.ms).sort((a, b) => a - b);
  const q = (p: number): number => (ms.length === 0 ? NaN : ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!);
  const seconds = (to - from) / 1000;
  return {
    phase: name,
    seconds: round(seconds, 2),
    ok: ok.length,
    goodputPerS: round(ok.length / seconds, 1),
    refused: within.filter((s) => s.status === 429 || s.status === 503).length,
    failed: within.filter((s) => s.status !== 200 && s.status !== 429 && s.status !== 503).length,
    p50Ms: round(q(0.5), 1),
    p99Ms: round(q(0.99), 1),
  };
}

function once(agent: Agent, port: number, post: boolean): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, agent, method: post ? 'POST' : 'GET', path: post ? '/submit' : '/work', timeout: 20_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(post ? Buffer.alloc(1024, 'p') : undefined);
  });
}

function text(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d));
      res.on('end', () => resolve(b));
    })
      .on('error', reject)
      .end();
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return lineMatching(child, '');
}

function lineMatching(child: ChildProcess, needle: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      for (const line of buf.split('\n').slice(0, -1)) {
        if (line.includes(needle)) {
          child.stdout!.off('data', onData);
          child.stdout!.resume(); // later output is drained, not kept
          return resolve(line);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing ${JSON.stringify(needle)}`)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function serveUpstream(): void {
  // The upstream, in its own process: every request answered after SERVICE_MS; /big is 20 MB.
  const big = Buffer.alloc(BIG_BYTES, 'b');
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () =>
      setTimeout(() => {
        if (req.url === '/big') {
          res.writeHead(200, { 'Content-Length': big.length });
          res.end(big);
        } else res.end(`ok ${n}`);
      }, SERVICE_MS),
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
}

if (values['serve-upstream']) serveUpstream();
else await main();
