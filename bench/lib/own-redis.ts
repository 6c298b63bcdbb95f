/**
 * bench:redis's `--own-redis`: a redis-server the bench starts as its own child (a free port on
 * 127.0.0.1, no persistence), killed by its PID when the bench exits.
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

/** Start the server and wait until it answers PING (10 s at most); its URL, as the shared one's. */
export async function startOwnRedis(): Promise<{ up: true; url: string }> {
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // Not what keeps the bench running: at its exit, the handler below kills the server.
  child.unref();
  let failed: Error | undefined;
  child.once('error', (err) => (failed = new Error(`bench:redis --own-redis: could not start redis-server (apt-get install redis-server): ${err.message}`)));
  process.once('exit', () => {
    if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (failed !== undefined) throw failed;
    try {
      if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG') return { up: true, url: `redis://127.0.0.1:${port}` };
    } catch {
      // not listening yet
    }
  }
  throw failed ?? new Error(`bench:redis --own-redis: redis-server on port ${port} did not answer PING within 10 s`);
}
