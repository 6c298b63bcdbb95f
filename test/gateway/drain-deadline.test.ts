// The drain's deadline (gateway-drain.ts DrainDeadline): a later, sooner deadline replaces it
// (a second signal, close()), and its timer holds no process up — the drain's own connections
// and workers do. Until drainedge its timer was ref'd: a deadline nobody waited on any more (one
// asked after the drain ended: drain() or close() again on a stopped gateway) kept the process
// alive until it passed, up to drain.timeout (1h at most).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DrainDeadline } from '../../src/gateway/gateway-drain.js';

/** Whether `p` settles within `ms` (a hang guard). */
const settles = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

describe('DrainDeadline', () => {
  it('says the deadline in force: a sooner one replaces it, a later one does not', async () => {
    const d = new DrainDeadline(600_000);
    expect([d.ms, d.cutShort]).toEqual([600_000, false]);
    d.shorten(700_000);
    expect([d.ms, d.cutShort]).toEqual([600_000, false]);
    d.shorten(0);
    expect([d.ms, d.cutShort]).toEqual([0, true]);
    expect(await settles(d.late, 10_000)).toBe(true);
  });

  it('once cleared (the drain ended), a later deadline arms nothing', async () => {
    const d = new DrainDeadline(600_000);
    d.clear();
    d.shorten(1);
    expect(await settles(d.late, 200)).toBe(false);
  });

  it('holds no process up: a process with nothing else to do exits before it passes', { timeout: 120_000 }, async () => {
    // A drain of 10m asked, then shortened to 5m: nothing else runs, so the process ends now.
    const script = "const { DrainDeadline } = await import('./src/gateway/gateway-drain.ts'); const d = new DrainDeadline(600000); d.shorten(300000); void d.late.then(() => console.log('late'));";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += String(b)));
    child.stderr.on('data', (b: Buffer) => (out += String(b)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      expect(await settles(exited, 90_000), 'the process still ran 90 s on with only a 5m drain deadline pending').toBe(true);
      expect(await exited, out).toBe(0);
      expect(out).not.toContain('late');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
