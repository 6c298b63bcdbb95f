/**
 * bench:redis's `--own-redis`: a redis-server the bench starts as its own child (a free port on
 * 127.0.0.1, no persistence), killed by its PID when the bench ends — by exit or by a signal —
 * or fails to start it (test/bench/own-redis.test.ts).
 *
 * Why: common.md runs a benchmark at raised priority (`echo -19 > /proc/self/autogroup; nice
 * -n -19`), and a child inherits both, while the shared server at REDIS_URL runs at the default
 * priority with every other session's work. On a busy host each round trip the bench measures
 * then waits for that server to get a core: in the same minutes (load 12-18, 2 cores) the exact
 * store's open-loop p99 read 816 and 870 ms against the shared server and 10.9 and 3.6 ms
 * against its own (bench/results/redis-3e9aea8-busy-own-ab.md). The ceiling (redis-benchmark,
 * also a child) is then measured on that server too.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Signals that end the bench by default: the server goes first, then the signal ends the bench as it would have. */
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Start the server and wait until it answers PING (`waitMs`, 10 s by default); its URL, as the
 * shared one's, and its PID. The server is killed (SIGKILL by PID) and its folder removed when
 * the bench exits, when a signal ends it (SIGINT, SIGTERM, SIGHUP: Node's default action skips
 * 'exit' handlers, and the server ran on), and at once when it fails to start.
 */
export async function startOwnRedis(options: { readonly waitMs?: number } = {}): Promise<{ up: true; url: string; pid: number }> {
  const waitMs = options.waitMs ?? 10_000;
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // Not what keeps the bench running: at its end, stop() kills the server.
  child.unref();
  let failed: Error | undefined;
  child.once('error', (err) => (failed ??= new Error(`bench:redis --own-redis: could not start redis-server (apt-get install redis-server): ${err.message}`)));
  child.once('exit', (code, signal) => (failed ??= new Error(`bench:redis --own-redis: redis-server on port ${port} exited (${code ?? signal}) before it answered PING`)));
  const onSignal = (signal: NodeJS.Signals): void => {
    stop();
    // No listener left for it (stop removed ours): the default action ends the bench.
    process.kill(process.pid, signal);
  };
  const stop = (): void => {
    process.off('exit', stop);
    for (const s of ENDING_SIGNALS) process.off(s, onSignal);
    // No pid: spawn failed (no redis-server), nothing runs.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (const s of ENDING_SIGNALS) process.once(s, onSignal);
  for (const end = Date.now() + waitMs; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (failed !== undefined) break;
    try {
      if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim() === 'PONG') return { up: true, url: `redis://127.0.0.1:${port}`, pid: child.pid! };
    } catch {
      // not listening yet
    }
  }
  // Not started: not left running until the bench exits.
  stop();
  throw failed ?? new Error(`bench:redis --own-redis: redis-server on port ${port} did not answer PING within ${waitMs} ms`);
}
