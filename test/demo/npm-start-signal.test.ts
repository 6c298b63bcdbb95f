/**
 * `npm start` under a supervisor (systemd, a container runtime, a CI step's timeout) that sends
 * SIGTERM to the process it started — npm — and to nothing else: the demo and every server it
 * spawned stop too. Before 'exec' in the start script, npm's `sh -c` died of the signal it was
 * forwarded and the demo, its upstream and its gateway ran on as orphans.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive } from '../cli-command.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('npm start', () => {
  it('SIGTERM to npm alone stops the demo and the servers it started', async () => {
    // detached: a process group of its own, so that whatever outlives the test is removed below.
    const npm = spawn('npm', ['start', '--silent', '--', '--duration', '20s', '--phases', '0.5', '--warmup', '0s'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    npm.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let serverPid: number | undefined;
    try {
      // Inside the try: a demo that never prints its line (or npm gone first) is removed below too.
      serverPid = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no 'server pid' line within 90 s: ${out}`)), 90_000);
        npm.once('exit', (code, signal) => {
          clearTimeout(t);
          reject(new Error(`npm exited (${code ?? signal}) before a 'server pid' line: ${out}`));
        });
        npm.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /server pid (\d+)/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(Number(m[1]));
          }
        });
      });
      const pid = serverPid;
      expect(alive(pid)).toBe(true);
      npm.kill('SIGTERM');
      expect(await until(() => !alive(pid), 20_000), `server ${pid} still running 20 s after SIGTERM to npm`).toBe(true);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
      if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    }
  }, 150_000);
});
