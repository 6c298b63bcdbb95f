// A worker's replacement that fails to start (here every worker forked while a marker file
// exists exits at once, before it listens: as one that crashes at its start). Before, the
// primary logged 'worker failed to restart' once and never tried again: the gateway served on
// with one worker of two for good while /status and /readyz said nothing of it. Now it is forked
// again with a capped backoff (1 s, 2 s, 4 s ... 30 s) until it starts, the failure is logged
// once per cause (not once per try), /status says `degraded: { workers: 1, of: 2, failing }`,
// /readyz `ready; degraded: 1 of 2 workers serving (...)` — 503 with none serving — and once the
// cause is gone the worker starts again and the gateway is whole. Real processes, `--workers 2`.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, primaryLine, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly degraded?: { readonly workers: number; readonly of: number; readonly failing: readonly { readonly worker: number; readonly tries: number; readonly since: string; readonly error: string }[] };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean }[];
}

const FAILED = 'worker failed to start: forking it again with a backoff (logged once per cause)';

describe('sluice gateway --workers 2: a replacement that fails to start', () => {
  it('is forked again with a backoff, logged once; /status and /readyz say degraded (503 with none serving); whole again once it starts', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const dir = tempDir();
    const marker = join(dir, 'fail-start');
    // Loaded by the primary and every worker (workers inherit node's arguments): a worker exits at its start while the marker exists.
    const preload = join(dir, 'fail-start.mjs');
    writeFileSync(preload, `import cluster from 'node:cluster';\nimport { existsSync } from 'node:fs';\nif (cluster.isWorker && existsSync(${JSON.stringify(marker)})) process.exit(3);\n`);
    const file = join(dir, 'sluice.yaml');
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nserver: { workers: 2 }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [ { path: /, upstream: app } ]\n`);
    const gw = sluice(['gateway', '--config', file], ['--import', pathToFileURL(preload).href]);
    const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const start = await status();
    expect(start.degraded).toBeUndefined();
    expect((await get(`${adminUrl}/readyz`)).body).toBe('ready\n');

    writeFileSync(marker, '');
    const from = gw.lines.length;
    const [first, second] = start.workers.map((w) => w.pid);
    process.kill(first!, 'SIGKILL');
    // Tried again and again (1 s, 2 s, 4 s apart): three failed tries, one log line.
    let last: Status | undefined;
    const failing = await within(WORKERS_START_MS, async () => {
      last = await status();
      return (last.degraded?.failing[0]?.tries ?? 0) >= 3;
    }, 200);
    expect(failing, JSON.stringify(last)).toBe(true);
    expect(last!.degraded).toMatchObject({ workers: 1, of: 2, failing: [{ worker: 0, error: 'worker 0 exited before it listened (code 3, signal null)' }] });
    expect(gw.lines.slice(from).filter((x) => x.includes(FAILED))).toHaveLength(1);
    const readyz = await get(`${adminUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect(readyz.body).toMatch(/^ready; degraded: 1 of 2 workers serving \(worker 0 failed to start \d+ times since \S+, forked again with a backoff: worker 0 exited before it listened \(code 3, signal null\)\)\n$/);
    // The other worker serves.
    expect((await get(String(l['url']))).status).toBe(200);

    // None serving: /readyz says not ready.
    process.kill(second!, 'SIGKILL');
    // (Its replacement failed once too: both are failing.)
    const none = await within(WORKERS_START_MS, async () => {
      const d = (await status()).degraded;
      return d?.workers === 0 && d.failing.length === 2;
    }, 200);
    expect(none).toBe(true);
    const down = await get(`${adminUrl}/readyz`);
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/^no worker serving: degraded: 0 of 2 workers serving \(worker 0 failed to start \d+ times/);

    // The cause gone, each starts at its next try (30 s apart at most), logged; the gateway is whole.
    rmSync(marker);
    const whole = await within(WORKERS_START_MS, async () => {
      last = await status();
      return last.degraded === undefined && last.workers.every((w) => !w.exited);
    }, 200);
    expect(whole, JSON.stringify(last)).toBe(true);
    expect(gw.lines.slice(from).filter((x) => x.includes('"msg":"worker started again after failed starts"'))).toHaveLength(2);
    expect(gw.lines.slice(from).filter((x) => x.includes(FAILED))).toHaveLength(2); // one per worker
    expect((await get(`${adminUrl}/readyz`)).body).toBe('ready\n');
    // Served again (on another port: with none left, node:cluster closed the port-0 listener and bound a new one).
    const listening = gw.lines.filter((x) => x.includes('"msg":"worker listening"')).at(-1)!;
    expect((await get(String((JSON.parse(listening) as { url: string }).url))).status).toBe(200);
  }, WORKERS_TEST_MS);
});
