// Every worker dead at once, and their replacements failing to start for a while (a crash loop:
// here a preload exits every worker forked while a marker file exists). node:cluster closes the
// listening socket with its last worker, and with `listen.port: 0` the next worker bound another
// port: before, the gateway came back on a port nobody was given, and the one in its 'listening'
// line refused connections for good. Now the primary chooses the port once and every worker binds
// it: while no worker serves /readyz says not ready (503) and the port refuses (nothing listens),
// and once a worker starts again the port the user was given serves again. Real processes.
import { writeFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, primaryLine, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  readonly degraded?: { readonly workers: number };
  readonly workers: readonly { readonly pid: number; readonly exited: boolean }[];
}

/** What connecting to `port` comes to: 'connected', or the error's code. */
function reach(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve('connected')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('sluice gateway --workers 2 --port 0: every worker dead, their replacements failing to start', () => {
  it('keeps the port it was given; /readyz is 503 while no worker serves; the same port serves once one starts', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const dir = tempDir();
    const marker = join(dir, 'fail-start');
    const preload = join(dir, 'fail-start.mjs');
    writeFileSync(preload, `import cluster from 'node:cluster';\nimport { existsSync } from 'node:fs';\nif (cluster.isWorker && existsSync(${JSON.stringify(marker)})) process.exit(3);\n`);
    const gw = sluice(['gateway', '--upstream', up.url, '--host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--workers', '2'], ['--import', pathToFileURL(preload).href]);
    const l = await gw.waitFor('listening', WORKERS_START_MS, 0, primaryLine);
    const url = String(l['url']);
    const port = Number(new URL(url).port);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    expect((await get(url)).status).toBe(200);

    writeFileSync(marker, '');
    for (const w of (await status()).workers) process.kill(w.pid, 'SIGKILL');
    expect(await within(WORKERS_START_MS, async () => (await status()).degraded?.workers === 0, 100)).toBe(true);
    const readyz = await get(`${adminUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/^no worker serving: degraded: 0 of 2 workers serving/);
    expect(await reach(port)).toBe('ECONNREFUSED');

    rmSync(marker);
    const from = gw.lines.length;
    const whole = await within(WORKERS_START_MS, async () => {
      const s = await status();
      return s.degraded === undefined && s.workers.every((w) => !w.exited);
    }, 200);
    expect(whole).toBe(true);
    // Each worker forked again listens where the first ones did, and the port the user was given serves.
    const listening = gw.lines.slice(from).filter((x) => x.includes('"msg":"worker listening"'));
    expect(listening.length).toBeGreaterThanOrEqual(2);
    for (const x of listening) expect((JSON.parse(x) as { url: string }).url).toBe(url);
    expect((await get(url)).status).toBe(200);
    expect((await get(`${adminUrl}/readyz`)).body).toBe('ready\n');
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  }, WORKERS_TEST_MS);
});
