// A worker that hangs in its start (here a preload blocks the forked process for good while a
// marker file exists: no 'ready', no 'listening', no answer to anything). Before, the primary
// waited for it for ever: /status said the gateway served with one worker of two and nothing
// failing, and the hung process lived on. Now server.workerStartTimeout (reloadable; 1 s here)
// kills it, counts it a failed start and forks it again with the restarts' backoff, so /status
// `degraded.failing` says why; once the cause is gone the worker starts and the gateway is whole.
// Real processes, `--workers 2`.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { alive } from '../cli-command.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, onCleanup, primaryLine, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly degraded?: { readonly workers: number; readonly of: number; readonly failing: readonly { readonly worker: number; readonly tries: number; readonly error: string }[] };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean }[];
}

describe('sluice gateway --workers 2: a worker that hangs in its start', () => {
  it('is killed after server.workerStartTimeout, counted a failed start and forked again with a backoff; whole once it starts', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const dir = tempDir();
    const marker = join(dir, 'hang');
    const pids = join(dir, 'pids');
    // Loaded by every worker before its code: while the marker exists it notes its pid and blocks for good (no CPU).
    const preload = join(dir, 'hang.mjs');
    writeFileSync(
      preload,
      `import cluster from 'node:cluster';\nimport { existsSync, mkdirSync, writeFileSync } from 'node:fs';\n` +
        `if (cluster.isWorker && existsSync(${JSON.stringify(marker)})) {\n  mkdirSync(${JSON.stringify(pids)}, { recursive: true });\n  writeFileSync(${JSON.stringify(pids)} + '/' + process.pid, '');\n  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\n}\n`,
    );
    // A hung process outlives its primary's SIGKILL (cleanup): it is ours to end.
    onCleanup(() => Promise.resolve(void (existsSync(pids) ? readdirSync(pids) : []).forEach((p) => alive(Number(p)) && process.kill(Number(p), 'SIGKILL'))));
    const file = join(dir, 'sluice.yaml');
    const yaml = (startTimeout: string): string => `listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nserver: { workers: 2, workerStartTimeout: ${startTimeout} }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [ { path: /, upstream: app } ]\n`;
    // Started with a long one (a worker under tsx on a busy host takes tens of seconds), then 1 s by a reload.
    writeFileSync(file, yaml('10m'));
    const gw = sluice(['gateway', '--config', file], ['--import', pathToFileURL(preload).href]);
    const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const reload = async (startTimeout: string): Promise<void> => {
      const from = gw.lines.length;
      writeFileSync(`${file}.next`, yaml(startTimeout));
      renameSync(`${file}.next`, file);
      gw.child.kill('SIGHUP');
      await gw.waitFor('reloaded', WORKERS_START_MS, from, primaryLine);
    };
    await reload('1s');

    writeFileSync(marker, '');
    const from = gw.lines.length;
    process.kill((await status()).workers[0]!.pid, 'SIGKILL');
    // Hung, killed, forked again (1 s, 2 s apart), hung again: two failed tries.
    let last: Status | undefined;
    const failing = await within(60_000, async () => {
      last = await status();
      return (last.degraded?.failing[0]?.tries ?? 0) >= 2;
    }, 200);
    expect(failing, JSON.stringify(last)).toBe(true);
    expect(last!.degraded).toMatchObject({ workers: 1, of: 2, failing: [{ worker: 0, error: 'worker 0 did not listen within server.workerStartTimeout (1000 ms)' }] });
    const kills = gw.lines.slice(from).filter((x) => x.includes('"msg":"worker did not listen within server.workerStartTimeout: killing it"'));
    expect(kills.length).toBeGreaterThanOrEqual(2);
    // Each hung process it killed is gone (not left blocked beside the gateway).
    const killed = kills.map((x) => Number((JSON.parse(x) as { pid: number }).pid));
    expect(await within(10_000, () => killed.every((pid) => !alive(pid)), 100)).toBe(true);
    // The other worker serves meanwhile.
    expect((await get(String(l['url']))).status).toBe(200);

    // The cause gone (and a start timeout a busy host's start fits in), it starts at its next try: whole.
    rmSync(marker);
    await reload('10m');
    const whole = await within(WORKERS_START_MS, async () => {
      last = await status();
      return last.degraded === undefined && last.workers.every((w) => !w.exited);
    }, 200);
    expect(whole, JSON.stringify(last)).toBe(true);
    expect(gw.lines.slice(from).some((x) => x.includes('"msg":"worker started again after failed starts"'))).toBe(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  }, WORKERS_TEST_MS);
});
