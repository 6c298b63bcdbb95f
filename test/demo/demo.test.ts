/**
 * `sluice demo` end to end: the CLI spawned as a user runs it, on short phases and a
 * smaller upstream (so the figures do not depend on how many cores the machine has).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, cliArgv } from '../cli-command.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function demo(args: readonly string[], onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cliArgv(['demo', ...args]), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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


interface Phase {
  run: string;
  multiple: number;
  goodput: number;
  p99: number;
  sent: number;
  ok: number;
  rejected: Record<string, number>;
  otherStatus: Record<string, number>;
  retryAfterShare: number;
  timeouts: number;
  errors: number;
  maxLagMs: number;
  valid: boolean;
  upstream?: { peakQueue: number };
}

describe('sluice demo', () => {
  // Behaviour only: which runs and phases, what the gateway lets reach the upstream, what
  // every refusal carries. Goodput and latency depend on how busy the machine is; they are
  // the benchmark's (npm run bench:gateway), and the demo marks a phase whose load was not
  // sent on time as invalid rather than report it as the server's.
  it('through the gateway the upstream never queues, the excess is refused with Retry-After; straight at it, nothing is refused', async () => {
    // 20 in service x 20 ms = 1,000 req/s capacity; 1 s phases. The warm-up's length is not what
    // this test checks (the one below is): 500 ms, not the default 3 s per run.
    const r = await demo(['--duration', '1s', '--phases', '0.5,4', '--concurrency', '20', '--warmup', '500ms', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { options: { capacity: number }; phases: Phase[] };
    expect(result.options.capacity).toBe(1000);
    expect(result.phases.map((p) => `${p.run} ${p.multiple}`)).toEqual(['direct 0.5', 'direct 4', 'gateway 0.5', 'gateway 4']);
    const at = (run: string, m: number): Phase => result.phases.find((p) => p.run === run && p.multiple === m)!;
    for (const p of result.phases) {
      expect(typeof p.valid).toBe('boolean');
      expect(p.valid).toBe(p.maxLagMs <= 100);
      // Every request sent was answered, refused, timed out or failed: none is unaccounted for.
      expect(p.ok + Object.values(p.rejected).reduce((a, b) => a + b, 0) + p.timeouts + p.errors + Object.values(p.otherStatus).reduce((a, b) => a + b, 0)).toBe(p.sent);
    }
    const direct = at('direct', 4);
    const gateway = at('gateway', 4);
    // Straight at the upstream nothing says no: no 429 or 503.
    expect(Object.keys(direct.rejected)).toHaveLength(0);
    // Through the gateway the upstream never holds more than the gateway's limit (its queue stays empty),
    // and 4x its capacity cannot all be admitted: the excess is refused, each refusal with Retry-After.
    expect(gateway.upstream!.peakQueue).toBeLessThan(20);
    expect(gateway.rejected['503'] ?? 0).toBeGreaterThan(0);
    expect(gateway.retryAfterShare).toBe(1);
  }, 180_000);

  it('prints the admin URLs while running and a table per phase, with whether the load was sent on time', async () => {
    const r = await demo(['--duration', '0.5s', '--phases', '1', '--runs', 'gateway', '--concurrency', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/admin: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(r.stdout).toContain('1x capacity — 1,000 req/s offered for 0.5 s');
    expect(r.stdout).toMatch(/run\s+goodput\/s\s+p50 ms\s+p99 ms\s+429\s+503\s+Retry-After\s+timeouts\s+errors\s+upstream peak queue\s+RSS MB\s+CPU %\s+load sent on time/);
    expect(r.stdout).toMatch(/\ngateway\s+[\d,]+\s.*(yes|NO: [\d.,]+ ms late — INVALID)/);
    // The servers are warmed up before each run (connections opened, code compiled), outside every phase, and it says so.
    expect(r.stdout).toContain('warm-up: 3 s at 1x before each run, not measured (connections opened, code compiled)\n');
    const short = await demo(['--duration', '0.5s', '--phases', '0.5,1', '--runs', 'gateway', '--concurrency', '20', '--warmup', '200ms']);
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('warm-up: 0.2 s at 0.5x before each run, not measured (connections opened, code compiled)\n');
    const none = await demo(['--duration', '0.5s', '--phases', '1', '--runs', 'gateway', '--concurrency', '20', '--warmup', '0s']);
    expect(none.stdout).toContain('warm-up: none\n');
  }, 180_000);

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
  }, 180_000);

  it('refuses contradictory or out-of-range options with a message naming them', async () => {
    // Three processes that exit at once, started together.
    const [r, r2, r3] = await Promise.all([
      demo(['--timeout', '100ms', '--queue-timeout', '100ms']),
      demo(['--phases', '0.5,fast']),
      demo(['--duration', '6']), // a bare number: seconds or ms? refused, as everywhere
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('timeoutMs: expected more than serviceMs + queueTimeoutMs (120 ms)');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--phases: expected positive multiples');
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--duration: expected a duration from 100ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "6"');
  }, 180_000);
});
