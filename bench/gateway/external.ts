/**
 * Running a peer proxy binary (nginx, HAProxy) for the bench: find it, write its config to
 * a temporary directory, start it in the foreground on a free loopback port, wait until it
 * accepts connections, and stop it by its PID.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The binary's path, or undefined when `command -v` does not find it. */
export function which(binary: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : undefined;
}

/** The binary's version as its `-v` prints it (nginx on stderr, HAProxy on stdout), or 'unknown'. */
export function versionOf(binary: string): string {
  const r = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return /(\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

/** A port that was free a moment ago (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > until) throw new Error(`nothing accepts connections on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningBinary {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Start `binary args` with its config written as `configName` in a fresh temp dir; `{dir}` in args and config is that dir. */
export async function startBinary(name: string, binary: string, args: readonly string[], configName: string, config: (dir: string, port: number) => string): Promise<RunningBinary> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-bench-${name}-`));
  const port = await freePort();
  writeFileSync(join(dir, configName), config(dir, port));
  const child: ChildProcess = spawn(binary, args.map((a) => a.replaceAll('{dir}', dir)), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([accepting(port, 5000), exited.then(() => Promise.reject(new Error(`${name} exited: ${stderr.trim()}`)))]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}
