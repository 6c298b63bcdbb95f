/**
 * `sluice demo` end to end: the CLI spawned as a user runs it, on short phases and a
 * smaller upstream (so the figures do not depend on how many cores the machine has).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function demo(args: readonly string[], onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Phase {
  run: string;
  multiple: number;
  goodput: number;
  p99: number;
  rejected: Record<string, number>;
  retryAfterShare: number;
  timeouts: number;
  upstream?: { peakQueue: number };
}

describe('sluice demo', () => {
  it('through the gateway, p99 of successes at 4x is far below the direct run, and every refusal carries Retry-After', async () => {
    // 20 in service x 20 ms = 1,000 req/s capacity; 1 s phases.
    const r = await demo(['--duration', '1s', '--phases', '0.5,4', '--concurrency', '20', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { options: { capacity: number }; phases: Phase[] };
    expect(result.options.capacity).toBe(1000);
    expect(result.phases.map((p) => `${p.run} ${p.multiple}`)).toEqual(['direct 0.5', 'direct 4', 'gateway 0.5', 'gateway 4']);
    const at = (run: string, m: number): Phase => result.phases.find((p) => p.run === run && p.multiple === m)!;
    // Under capacity both serve everything.
    for (const run of ['direct', 'gateway']) expect(at(run, 0.5).goodput).toBeGreaterThan(400);
    const direct = at('direct', 4);
    const gateway = at('gateway', 4);
    // Straight at the upstream, the backlog grows inside it: seconds of latency, no refusals.
    expect(direct.upstream!.peakQueue).toBeGreaterThan(1000);
    expect(direct.p99).toBeGreaterThan(1000);
    expect(Object.keys(direct.rejected)).toHaveLength(0);
    // Through the gateway: the upstream never queues, successes stay near service time + queue timeout.
    expect(gateway.upstream!.peakQueue).toBeLessThan(20);
    expect(gateway.p99 * 3).toBeLessThan(direct.p99);
    expect(gateway.rejected['503'] ?? 0).toBeGreaterThan(1000);
    expect(gateway.retryAfterShare).toBe(1);
    expect(gateway.timeouts).toBe(0);
    expect(gateway.goodput).toBeGreaterThan(500);
  }, 30_000);

  it('prints the admin URLs while running and a table per phase', async () => {
    const r = await demo(['--duration', '0.5s', '--phases', '1', '--runs', 'gateway', '--concurrency', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/admin: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(r.stdout).toContain('1x capacity — 1,000 req/s offered for 0.5 s');
    expect(r.stdout).toMatch(/run\s+goodput\/s\s+p50 ms\s+p99 ms\s+429\s+503\s+Retry-After\s+timeouts\s+errors\s+upstream peak queue\s+RSS MB\s+CPU %/);
    expect(r.stdout).toMatch(/\ngateway\s+[\d,]+\s/);
  }, 30_000);

  it('stops its server processes on Ctrl-C', async () => {
    const pids = new Set<number>();
    let sent = false;
    const r = await demo(['--duration', '5s', '--concurrency', '20'], (text, kill) => {
      for (const m of text.matchAll(/server pid (\d+)/g)) pids.add(Number(m[1]));
      if (!sent && pids.size > 0) {
        sent = true;
        setTimeout(() => kill('SIGINT'), 300);
      }
    });
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('interrupted: stopping the servers');
    expect(pids.size).toBeGreaterThan(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);

  it('refuses contradictory or out-of-range options with a message naming them', async () => {
    const r = await demo(['--timeout', '100ms', '--queue-timeout', '100ms']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('timeoutMs: expected more than serviceMs + queueTimeoutMs (120 ms)');
    const r2 = await demo(['--phases', '0.5,fast']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--phases: expected positive multiples');
  }, 30_000);
});
