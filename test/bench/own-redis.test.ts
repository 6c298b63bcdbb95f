// bench/lib/own-redis.ts (bench:redis --own-redis, bench/redis-remote.ts --own-redis): the
// redis-server it starts is the bench's child, and must not outlive it — killed when the bench
// is signalled (SIGTERM, SIGINT: before, Node's default action ended the bench without its
// 'exit' handler, and the server ran on), and at once when it fails to start (before, it ran
// until the bench exited). A bench stand-in of the test's own (own-redis-child.ts), run by tsx.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { alive } from '../cli-command.js';
import { haveRedisServer, until } from '../redis/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./own-redis-child.ts', import.meta.url));
const can = haveRedisServer();

/** Run the stand-in; resolves with its first line and the process. */
function bench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ line: string; proc: ReturnType<typeof spawn> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve({ line: out.slice(0, nl), proc });
    });
    proc.once('exit', (code, sig) => reject(new Error(`the stand-in exited (${code ?? sig}) before a line: ${out}`)));
  });
}

const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe.skipIf(!can)("bench/lib/own-redis.ts: the bench's own redis-server", () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`is gone once the bench is ended by ${signal}`, async () => {
      const { line, proc } = await bench([]);
      const m = /^up redis:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      // The server's PID, as it says it.
      const pid = Number(/process_id:(\d+)/.exec(execFileSync('redis-cli', ['-p', m![1]!, 'info', 'server'], { encoding: 'utf8' }))![1]);
      leftovers.push(pid);
      expect(alive(pid)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_c, s) => r(s)));
      proc.kill(signal);
      // Ended by the signal, as without the helper.
      expect(await exited).toBe(signal);
      // Before: still alive 5 s later (SIGTERM: the bench's 'exit' handler never ran).
      expect(await until(() => !alive(pid), 5000)).toBe(true);
    }, 30_000);
  }

  it('is killed at once when it does not answer within the wait, while the bench runs on', async () => {
    // A redis-server that never answers: a script on PATH first that writes its PID and sleeps.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-own-redis-fake-'));
    try {
      const pidFile = join(dir, 'pid');
      writeFileSync(join(dir, 'redis-server'), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 600\n`);
      chmodSync(join(dir, 'redis-server'), 0o755);
      const { line, proc } = await bench(['300'], { ...process.env, PATH: `${dir}:${process.env['PATH']}` });
      try {
        expect(line).toMatch(/^failed bench:redis --own-redis: redis-server on port \d+ did not answer PING within 300 ms/);
        const pid = Number(readFileSync(pidFile, 'utf8'));
        leftovers.push(pid);
        // Before: alive as long as the bench ran.
        expect(await until(() => !alive(pid), 5000)).toBe(true);
        expect(proc.exitCode).toBeNull();
      } finally {
        proc.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
