// One edit of the config file and one SIGHUP are one reload. The file watch and the signal
// each asked for a reload of the same text: when the watch's reload ran first and the SIGHUP
// came while it ran (a worker slow to answer), the SIGHUP reloaded the unchanged file again (two
// generations for one edit); when the SIGHUP's ran first and the text was rejected, the watch's
// tried it again (a rejected text was not remembered): rejected twice. A SIGHUP when no reload
// runs still reloads an unchanged file, a rejected one too (docs/gateway.md, Reload). Real
// processes, `--workers 2`.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, oneLimitYaml, onCleanup, primaryLine, sluice, tempDir, upstream, within } from './helpers.js';
import type { Spawned } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly reload: { readonly applied: number; readonly partial: number; readonly rejected: number; readonly generation: number; readonly last?: { readonly outcome: string; readonly generation: number } };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean; readonly generation: number | undefined }[];
}

/** Two workers, server.workerTimeout off (no silent-worker kill gets in the way), a drain of 1 s (a replaced worker goes soon). */
const yaml = (up: string, limit: number): string => `${oneLimitYaml(up, limit, 'workers: 2, workerTimeout: 0s')}drain: { timeout: 1s }\n`;

/** Replaced whole, as an editor saves: the watch sees a rename, never a half-written file. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.next`, text);
  renameSync(`${file}.next`, file);
}

const SKIPPED = 'reload skipped: the config file is the text the last reload read';

/** The primary's lines from `from` on whose msg is `msg` and whose `why` is `why` (any when undefined). */
function primaryLines(gw: Spawned, from: number, msg: string, why?: string): Record<string, unknown>[] {
  return gw.lines.slice(from).flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      return primaryLine(o) && o['msg'] === msg && (why === undefined || o['why'] === why) ? [o] : [];
    } catch {
      return [];
    }
  });
}

async function start(limit: number): Promise<{ up: string; file: string; gw: Spawned; url: string; status: () => Promise<Status> }> {
  const up = (await upstream((_req, res) => res.end('ok'))).url;
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml(up, limit));
  // debug: the watch's skipped reloads are logged at debug.
  const gw = sluice(['gateway', '--config', file, '--log-level', 'debug']);
  const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
  const adminUrl = String(l['adminUrl']);
  return { up, file, gw, url: String(l['url']), status: async () => JSON.parse((await get(`${adminUrl}/status`)).body) as Status };
}

describe('sluice gateway --workers 2: one edit and one SIGHUP', () => {
  it('a rejected text is rejected once, whichever asks first; an applied one is one generation; a SIGHUP of its own when none runs reloads an unchanged file', async () => {
    const { up, file, gw, url, status } = await start(8);
    const rejectedLines = (from: number): number => primaryLines(gw, from, 'reload rejected: the previous config keeps serving').length;
    // The watch's own ask, after the SIGHUP's: the same text again (renamed over itself), skipped — or, before, rejected again.
    const watchAgain = async (from: number, text: string, done: (from: number) => boolean): Promise<void> => {
      const at = gw.lines.length;
      replaceFile(file, text);
      expect(await within(20_000, () => primaryLines(gw, at, SKIPPED, 'file change').length > 0 || done(from), 20)).toBe(true);
    };

    let from = gw.lines.length;
    const invalid = yaml(up, -1);
    replaceFile(file, invalid);
    gw.child.kill('SIGHUP');
    await gw.waitFor('reload rejected: the previous config keeps serving', 20_000, from, primaryLine);
    await watchAgain(from, invalid, (f) => rejectedLines(f) > 1);
    expect((await status()).reload).toMatchObject({ applied: 0, rejected: 1, generation: 1, last: { outcome: 'rejected' } });
    expect(rejectedLines(from)).toBe(1);

    // A SIGHUP of its own, nothing running, the invalid text still there: asked, so tried (and rejected) again.
    let at = gw.lines.length;
    gw.child.kill('SIGHUP');
    expect(await gw.waitFor('reload rejected: the previous config keeps serving', 20_000, at, primaryLine)).toMatchObject({ why: 'SIGHUP' });
    expect((await status()).reload).toMatchObject({ applied: 0, rejected: 2, generation: 1 });

    // A valid edit: one generation, whichever asks first.
    from = gw.lines.length;
    const valid = yaml(up, 4);
    replaceFile(file, valid);
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', 20_000, from, primaryLine);
    await watchAgain(from, valid, (f) => primaryLines(gw, f, 'reloaded').length > 1);
    const afterEdit = await status();
    // Generations 2 and 3 were the rejected text's; 4 is this edit's.
    expect(afterEdit.reload).toMatchObject({ applied: 1, partial: 0, rejected: 2, generation: 4, last: { outcome: 'applied', generation: 4 } });
    expect(primaryLines(gw, from, 'reloaded')).toHaveLength(1);

    // A SIGHUP with nothing running reloads the unchanged valid file (documented): a generation of its own.
    at = gw.lines.length;
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', 20_000, at, primaryLine);
    expect((await status()).reload).toMatchObject({ applied: 2, rejected: 2, generation: 5 });
    expect((await get(url)).status).toBe(200);
  }, WORKERS_TEST_MS);

  it("a SIGHUP that comes while the watch's reload of the same edit runs (a worker slow to answer) is no second reload", async () => {
    const { up, file, gw, url, status } = await start(8);
    const begin = await status();
    const stopped = begin.workers[0]!.pid;
    // Stopped, it answers nothing: the reload waits on it for the call's 5 s, the other worker having taken it.
    process.kill(stopped, 'SIGSTOP');
    onCleanup(() => {
      try {
        process.kill(stopped, 'SIGKILL');
      } catch {
        // gone already (replaced)
      }
      return Promise.resolve();
    });
    const from = gw.lines.length;
    replaceFile(file, yaml(up, 4));
    // The watch's reload runs: worker 1 took it, the primary still waits on worker 0.
    await gw.waitFor('reloaded', 20_000, from, (l) => l['worker'] === 1);
    gw.child.kill('SIGHUP');
    // The stopped worker is replaced with the config in force; the reload ends applied.
    let last: Status | undefined;
    const converged = await within(WORKERS_START_MS, async () => {
      last = await status();
      return last.reload.last?.outcome === 'applied' && !last.workers.some((w) => w.pid === stopped || w.exited);
    }, 200);
    expect(converged, JSON.stringify(last)).toBe(true);
    expect(last!.reload).toMatchObject({ applied: 1, partial: 1, rejected: 0, generation: 2, last: { outcome: 'applied', generation: 2 } });
    expect(last!.workers.map((w) => w.generation)).toEqual([2, 2]);
    expect(primaryLines(gw, from, 'reload partial: converging')).toHaveLength(1);
    // The SIGHUP's ask was skipped, and said so.
    expect(primaryLines(gw, from, SKIPPED, 'SIGHUP')).toMatchObject([{ level: 'info' }]);
    expect((await get(url)).status).toBe(200);
  }, WORKERS_TEST_MS);
});
