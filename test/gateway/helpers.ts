// Real processes and sockets on loopback: a small upstream, the CLI spawned (test/cli-command.ts), and
// cleanup of everything started (afterEach calls cleanup()).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import type { Duration, Gateway, GatewayConfig, GatewayOptions } from '../../src/gateway/index.js';
import { cliArgv } from '../cli-command.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
const servers = new Set<Server>();
const dirs = new Set<string>();
const closers = new Set<() => Promise<void>>();

export function onCleanup(f: () => Promise<void>): void {
  closers.add(f);
}

export async function cleanup(): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const f of closers) await f().catch(() => undefined);
  closers.clear();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  servers.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-gw-'));
  dirs.add(d);
  return d;
}

export async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; port: number }> {
  const server = createServer(handler);
  servers.add(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server, port };
}

/** A port nothing listens on. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A line the primary (or a one-process gateway) wrote, not one of its workers. */
export const primaryLine = (line: Record<string, unknown>): boolean => line['worker'] === undefined;

export interface Spawned {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  /**
   * Resolves the first log line whose msg is `msg` (parsed). `where` narrows it: with
   * --workers a worker's own 'reloaded' (it carries `worker`) comes before the primary's,
   * which is the one that records the reload in /status (`primaryLine`).
   */
  waitFor(msg: string, timeoutMs?: number, from?: number, where?: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * The CLI (built, or under tsx: cliArgv); `nodeArgs` go to node before it (and on to forked
 * workers, which inherit execArgv). `argv`: node's whole argument list instead (bin/sluice.js, as `npx sluice` runs it).
 */
export function sluice(args: readonly string[], nodeArgs: readonly string[] = [], argv: readonly string[] = cliArgv(args, nodeArgs)): Spawned {
  const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  let err = '';
  let buf = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const parsed = (from: number, msg: string, where?: (line: Record<string, unknown>) => boolean): Record<string, unknown> | undefined => {
    for (const l of lines.slice(from)) {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        if (o['msg'] === msg && (where === undefined || where(o))) return o;
      } catch {
        /* not a log line */
      }
    }
    return undefined;
  };
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    waitFor: (msg, timeoutMs = 10_000, from = 0, where) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const o = parsed(from, msg, where);
          if (o !== undefined) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(o);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${msg}" log line within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => check());
        check();
      }),
  };
}

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `sluice gateway <args>` for a run that ends before anything is served (`--check`, a refused
 * flag), in this process: the command's own code, from the flags to the exit code and what it
 * writes, without a second or two of process start per case. The process wiring (exit status,
 * real streams) is asserted by the spawned cases.
 */
export async function gatewayCommandRun(args: readonly string[]): Promise<Ran> {
  const { gatewayCommand } = await import('../../src/cli/gateway.js');
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    return { code: await gatewayCommand(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * How long a `--workers` gateway may take to listen: a hang guard, not a figure. A primary and
 * two forked workers under tsx took more than 50 s to listen at load 26 on 2 cores (3 of 3
 * starts of workers-rate.test.ts, 2026-12-05), 20–30 s at load 14.
 */
export const WORKERS_START_MS = 120_000;
/** A test that starts a `--workers` gateway: its start ({@link WORKERS_START_MS}) and the rest. */
export const WORKERS_TEST_MS = 300_000;

/**
 * How long a one-process gateway gets to listen: a hang guard, not a figure. Under tsx at load
 * 20-40 on 2 cores 15 s was too short (slow-clients.test.ts and cli-forms.test.ts, "no listening
 * line within 15000 ms", 2026-12-05), and so was 45 s beside a CPU hog at load 27-35 (reload,
 * drain and slow-clients tests, session 26); within the e2e project's test timeout (vitest.config.ts).
 */
export const ONE_START_MS = 90_000;

/** Start the CLI and wait until it listens. */
export async function gateway(args: readonly string[]): Promise<Spawned & { url: string; adminUrl: string }> {
  const s = sluice(args);
  const l = await s.waitFor('listening', args.includes('--workers') ? WORKERS_START_MS : ONE_START_MS);
  return Object.assign(s, { url: String(l['url']), adminUrl: String(l['adminUrl']) });
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with node:http (full control of headers and target), no keep-alive. */
export function get(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: options.method ?? 'GET', path: options.path ?? `${u.pathname}${u.search}`, headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every `everyMs` for at most `ms`; false when it never held. */
export async function within(ms: number, cond: () => Promise<boolean> | boolean, everyMs = 5): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
  return true;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The gateway in this process, quiet, closed after the test. */
/** `options`: the gateway's own (an injected clock, say); the logger is always silent. */
export async function startInProcess(config: GatewayConfig, options: Omit<GatewayOptions, 'logger'> = {}): Promise<Gateway> {
  const gw = await startGateway(config, { ...options, logger: silent });
  onCleanup(() => gw.close());
  return gw;
}

/** One route to one upstream on loopback, listeners on free ports. */
export const oneRoute = (up: string, upstreamTimeout: Duration, extra: Partial<GatewayConfig> = {}): GatewayConfig => ({
  listen: { host: '127.0.0.1', port: 0 },
  admin: { port: 0 },
  upstreams: { app: { url: up, timeout: upstreamTimeout } },
  routes: [{ path: '/' }],
  ...extra,
});

/** The sum of the Prometheus samples of `family` whose labels include every `labels` pair (undefined: none). */
export function metricSample(text: string, family: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`)) continue;
    const head = line.slice(0, line.lastIndexOf(' '));
    if (want.every((w) => head.includes(w))) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A YAML config: one upstream, one route to it under policy `p` of `limit` slots; `server` is its server section's keys (`workers: 2`), when any. */
export const oneLimitYaml = (up: string, limit: number, server = ''): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
${server === '' ? '' : `server: { ${server} }\n`}upstreams:
  app: { url: ${up} }
policies:
  p: { concurrency: { limit: ${limit} } }
routes:
  - { path: /, policy: p }
`;

/** `sluice gateway --config` (a temp file of {@link oneLimitYaml}, `workers: 2`) over an upstream answering 'ok', once it listens. */
export async function twoWorkersFromFile(limit: number, startMs: number): Promise<{ up: string; file: string; gw: Spawned; url: string; adminUrl: string }> {
  const up = (await upstream((_req, res) => res.end('ok'))).url;
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, oneLimitYaml(up, limit, 'workers: 2'));
  const gw = sluice(['gateway', '--config', file]);
  const l = await gw.waitFor('listening', startMs);
  return { up, file, gw, url: String(l['url']), adminUrl: String(l['adminUrl']) };
}
