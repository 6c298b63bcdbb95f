// A reload that no worker answers (here every worker is stopped, SIGSTOP: as loops busy past
// the primary's 5 s call timeout). Before, it rolled forward: `partial`, then every worker was
// drained and forked again at once with a config no worker had ever run — the whole gateway's
// capacity replaced on a config nothing had proven. Now it is rejected: generation 1 stays,
// nobody is replaced; workers that wake up and apply it late are brought back to generation 1;
// a SIGHUP asks again (the text was not found invalid) and, the workers answering, applies it.
// server.workerTimeout is off: no silent-worker kill gets in the way.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, oneLimitYaml, onCleanup, primaryLine, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly reload: { readonly applied: number; readonly partial: number; readonly rejected: number; readonly generation: number; readonly last?: { readonly outcome: string; readonly generation: number }; readonly lastRejected?: { readonly error: string } };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean; readonly replacing: boolean; readonly generation: number | undefined; readonly status?: { readonly policies: readonly { readonly gates: readonly { readonly limit?: number }[] }[] } }[];
}

/** Two workers, server.workerTimeout off (no silent-worker kill gets in the way), a drain of 1 s (a replaced worker goes soon). */
const yaml = (up: string, limit: number): string => `${oneLimitYaml(up, limit, 'workers: 2, workerTimeout: 0s')}drain: { timeout: 1s }\n`;

const signal = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
};

describe('sluice gateway --workers 2: a reload no worker answers', () => {
  it('is rejected, generation 1 stays and no worker is replaced; late takers are brought back; a SIGHUP then applies it', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url, 8));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const limits = (s: Status): (number | undefined)[] => s.workers.map((w) => w.status?.policies[0]?.gates[0]?.limit);
    const start = await status();
    const pids = start.workers.map((w) => w.pid);
    expect(limits(start)).toEqual([4, 4]);
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      // A stopped process outlives its primary's SIGKILL (cleanup): it is ours to end.
      onCleanup(() => Promise.resolve(signal(pid, 'SIGKILL')));
    }
    const from = gw.lines.length;
    writeFileSync(`${file}.next`, yaml(up.url, 4));
    renameSync(`${file}.next`, file);
    gw.child.kill('SIGHUP');
    const rejected = await gw.waitFor('reload rejected: the previous config keeps serving', WORKERS_START_MS, from, primaryLine);
    expect(String(rejected['error'])).toMatch(/no worker took generation 2, generation 1 stays \(worker 0: worker 0 did not answer reload within 5000 ms; worker 1: worker 1 did not answer reload/);
    const stuck = await status();
    expect(stuck.reload).toMatchObject({ applied: 0, partial: 0, rejected: 1, generation: 1, last: { outcome: 'rejected', generation: 2 } });
    expect(stuck.workers.map((w) => [w.pid, w.generation, w.replacing, w.exited])).toEqual(pids.map((p) => [p, 1, false, false]));

    // They wake up: each applies the reload it was sent (late), says so, and is asked back to 1.
    for (const pid of pids) process.kill(pid, 'SIGCONT');
    let last: Status | undefined;
    const back = await within(WORKERS_START_MS, async () => {
      last = await status();
      return last.workers.every((w) => w.generation === 1) && limits(last).every((x) => x === 4) && gw.lines.slice(from).some((x) => x.includes('"worker":1') && x.includes('"msg":"reloaded"'));
    }, 200);
    expect(back, JSON.stringify(last)).toBe(true);
    expect(last!.workers.map((w) => w.pid)).toEqual(pids);
    expect(last!.reload).toMatchObject({ partial: 0, rejected: 1, generation: 1 });
    expect(gw.lines.slice(from).filter((x) => x.includes('replacing it') || x.includes('worker replaced'))).toEqual([]);
    expect((await get(String(l['url']))).status).toBe(200);

    // Asked again, the workers answering: applied (a SIGHUP retries a text rejected for want of an answer).
    const again = gw.lines.length;
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', WORKERS_START_MS, again, primaryLine);
    const after = await status();
    expect(after.reload).toMatchObject({ applied: 1, rejected: 1, generation: 3, last: { outcome: 'applied', generation: 3 } });
    expect(limits(after)).toEqual([2, 2]);
    expect(after.workers.map((w) => w.pid)).toEqual(pids);
  }, WORKERS_TEST_MS);
});
