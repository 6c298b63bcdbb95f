// A reload that one worker does not take (here it is stopped, SIGSTOP: its loop answers
// nothing, as a loop busy for longer than the primary's 5 s call timeout). Before, the primary
// threw "reload failed on 1 of 2 workers" and /status said `rejected` — the previous config
// serving — while the other worker ran the new limit and the stopped one the old: one gateway,
// two limits, and a record that said otherwise. Now the reload is `partial` while the workers
// converge: the one that failed is asked again, then replaced (drained, killed when it does not
// answer, forked again with the new config); then it is `applied`, every worker at its
// generation. server.workerTimeout is off: the convergence, not the silent-worker kill, does it.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, onCleanup, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly reload: { readonly applied: number; readonly partial: number; readonly rejected: number; readonly generation: number; readonly last?: { readonly outcome: string; readonly generation: number } };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean; readonly generation: number | undefined; readonly status?: { readonly reload?: { readonly generation: number }; readonly policies: readonly { readonly gates: readonly { readonly limit?: number }[] }[] } }[];
}

const kill = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
};

const yaml = (up: string, limit: number): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { workers: 2, workerTimeout: 0s }
drain: { timeout: 1s }
upstreams: { app: { url: "${up}" } }
policies: { p: { concurrency: { limit: ${limit} } } }
routes: [ { path: /, upstream: app, policy: p } ]
`;

describe('sluice gateway --workers 2: a reload one worker does not take', () => {
  it('is partial while the workers converge, never rejected with the others on the new config; then applied, every worker at the new generation', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url, 8));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const start = await status();
    expect(start.reload.generation).toBe(1);
    expect(start.workers.map((w) => w.generation)).toEqual([1, 1]);
    const stopped = start.workers[0]!.pid;
    process.kill(stopped, 'SIGSTOP');
    // A stopped process outlives its primary's SIGKILL (cleanup): it is ours to end.
    onCleanup(() => Promise.resolve(kill(stopped)));
    const from = gw.lines.length;
    // Replaced whole, as an editor saves: the file watch never reads it half written (a rejection of its own).
    writeFileSync(`${file}.next`, yaml(up.url, 4));
    renameSync(`${file}.next`, file);
    gw.child.kill('SIGHUP');
    const limits = (s: Status): (number | undefined)[] => s.workers.map((w) => (w.exited ? undefined : w.status?.policies[0]?.gates[0]?.limit));
    const outcomes = new Set<string>();
    let last: Status | undefined;
    const converged = await within(WORKERS_START_MS, async () => {
      last = await status();
      outcomes.add(last.reload.last?.outcome ?? 'none');
      return last.reload.last?.outcome === 'applied' && !last.workers.some((w) => w.pid === stopped) && limits(last).every((x) => x === 2);
    }, 200);
    expect(converged, JSON.stringify({ reload: last?.reload, workers: last?.workers.map((w) => [w.pid, w.exited, w.generation]), limits: last === undefined ? [] : limits(last) })).toBe(true);
    expect([...outcomes]).not.toContain('rejected');
    expect(outcomes).toContain('partial');
    // The file watch may ask again after SIGHUP (the same text: skipped once one took it).
    const { generation } = last!.reload;
    expect(last!.reload).toMatchObject({ rejected: 0, last: { outcome: 'applied', generation } });
    expect(last!.reload.partial).toBeGreaterThanOrEqual(1);
    expect(generation).toBeGreaterThanOrEqual(2);
    expect(last!.workers.map((w) => w.generation)).toEqual([generation, generation]);
    // Each worker's own status says the same generation (not a count of its own reloads: the replacement made none).
    expect(last!.workers.map((w) => w.status?.reload?.generation)).toEqual([generation, generation]);
    const lines = gw.lines.slice(from);
    // The log says what each worker runs while they differ, and when they all run the new one.
    expect(lines.some((x) => x.includes('"msg":"reload partial: converging"') && x.includes(`"generation":${generation}`))).toBe(true);
    expect(lines.some((x) => x.includes(`"msg":"reloaded","routes":1,"workers":2,"generation":${generation}`))).toBe(true);
    expect(lines.filter((x) => x.includes('reload rejected'))).toEqual([]);
    expect((await get(l['url'] as string)).status).toBe(200);
  }, WORKERS_TEST_MS);
});
