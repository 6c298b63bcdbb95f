// A reload that two of three workers do not take (they are stopped, SIGSTOP: their loops answer
// nothing). The reload is partial and the two are replaced — before, both at once: each drained,
// killed and forked again together, two of three workers' capacity gone at the same moment (with
// more workers not taking it, all but one; worker-rollout.ts). Now the replacements roll: one
// worker at a time, the next only once the previous one's replacement listens. /status is read
// all along: never more than one worker replaced or exited at once, and then every worker runs
// the new generation. server.workerTimeout is off: the rollout, not the silent-worker kill, does it.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive } from '../cli-command.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, onCleanup, oneLimitYaml, primaryLine, sluice, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly reload: { readonly last?: { readonly outcome: string; readonly generation: number } };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean; readonly replacing: boolean; readonly generation: number | undefined }[];
}

/** Three workers sharing a limit of `limit`; a drain of 1 s (a stopped worker is killed 5 s after it). */
const yaml = (up: string, limit: number): string => `${oneLimitYaml(up, limit, 'workers: 3, workerTimeout: 0s')}drain: { timeout: 1s }\n`;

describe('sluice gateway --workers 3: a reload two workers do not take', () => {
  it('replaces them one at a time, each replacement listening before the next worker goes', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url, 9));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const start = await status();
    const stopped = [start.workers[0]!.pid, start.workers[1]!.pid];
    for (const pid of stopped) {
      process.kill(pid, 'SIGSTOP');
      // A stopped process outlives its primary's SIGKILL (cleanup): it is ours to end.
      onCleanup(() => Promise.resolve(void (alive(pid) && process.kill(pid, 'SIGKILL'))));
    }
    writeFileSync(`${file}.next`, yaml(up.url, 6));
    renameSync(`${file}.next`, file);
    gw.child.kill('SIGHUP');
    // Every 100 ms until applied: how many workers were out (replaced, or exited and not yet forked again) at once.
    let mostOut = 0;
    let last: Status | undefined;
    const until = Date.now() + WORKERS_START_MS * 2;
    while (Date.now() < until) {
      last = await status();
      mostOut = Math.max(mostOut, last.workers.filter((w) => w.replacing || w.exited).length);
      if (last.reload.last?.outcome === 'applied' && last.workers.every((w) => !stopped.includes(w.pid) && !w.exited)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const generation = last!.reload.last?.generation;
    expect(last!.reload.last?.outcome, JSON.stringify(last)).toBe('applied');
    expect(last!.workers.map((w) => w.generation)).toEqual([generation, generation, generation]);
    expect(last!.workers.some((w) => stopped.includes(w.pid))).toBe(false);
    expect(mostOut).toBe(1);
    expect((await get(String(l['url']))).status).toBe(200);
  }, WORKERS_TEST_MS * 2);
});
