// The primary of `sluice gateway --workers 2` killed (SIGKILL, the OOM killer) while requests
// are at the upstream (hostile-2 W1): node:cluster exited each worker the moment its channel
// closed, and every request in flight was reset though the upstream went on to answer it. The
// workers drain instead: what they admitted is answered, then they exit. Outcomes only.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, sluice, upstream } from './helpers.js';
import { alive } from '../cli-command.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

/** One request on its own connection: its status, or the error's code. */
function once(url: string): Promise<number | string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path: '/x', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}


describe('sluice gateway --workers 2: the primary killed', () => {
  it('requests the workers admitted are answered, then the workers exit', { timeout: 300_000 }, async () => {
    let arrived = 0;
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    const up = await upstream((_req, res) => {
      arrived++;
      void held.then(() => res.end('ok'));
    });
    const gw = sluice(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--drain-timeout', '20s']);
    const l = await gw.waitFor('listening', START_MS);
    const url = String(l['url']);
    const pids = (JSON.parse((await get(`${String(l['adminUrl'])}/status`)).body) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
    const answers = Array.from({ length: 4 }, () => once(url));
    for (let i = 0; i < 600 && arrived < 4; i++) await sleep(50);
    expect(arrived).toBe(4);
    gw.child.kill('SIGKILL');
    await gw.exited;
    release();
    expect(await Promise.all(answers)).toEqual([200, 200, 200, 200]);
    // Orphans do not linger: each exits once what it admitted is answered.
    for (let i = 0; i < 600 && pids.some(alive); i++) await sleep(50);
    expect(pids.filter(alive)).toEqual([]);
  });
});
