// server.workerTimeout: a worker that answers none of its primary's status calls for that
// long (here SIGSTOP) is killed and forked again, and the slots it leased come back. Before,
// a stopped worker kept them for as long as it stayed stopped: with a limit of 2 and one slot
// leased by the stopped worker, the others could never have more than 1 request in flight.
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  workers: { index: number; pid: number; restarts: number; answering: boolean }[];
  leases: Record<string, { limit: number; held: Record<string, number> }>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('sluice gateway --workers 2, server.workerTimeout', () => {
  it('a stopped worker is killed after workerTimeout and forked again; the slot it held comes back to the others', async () => {
    const held: ServerResponse[] = [];
    let arrived = 0;
    const up = await upstream((req, res) => {
      req.resume();
      if (req.url?.startsWith('/hold') === true) {
        arrived++;
        held.push(res);
      } else res.end('ok');
    });
    const release = (): void => {
      for (const r of held.splice(0)) r.end('released');
    };
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(
      file,
      `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
server: { workers: 2, workerTimeout: 2s, pauseRefused: 0s }
upstreams: { app: { url: "${up.url}" } }
routes:
  - { path: /, upstream: app, policy: { concurrency: { limit: 2, queue: 4, queueTimeout: 20s } } }
`,
    );
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', 120_000);
    const url = String(l['url']);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;

    // Two requests held at the upstream (each on its own connection: the kernel picks the worker).
    const first = [get(`${url}/hold/1`), get(`${url}/hold/2`)].map((p) => p.then((r) => r.status, () => 'closed' as const));
    expect(await within(30_000, () => arrived === 2)).toBe(true);
    const before = await status();
    const pool = Object.values(before.leases)[0]!;
    // The worker to stop: one that holds a slot (holder ids are worker-<index>-<id>).
    const holder = Object.entries(pool.held).find(([, n]) => n > 0)![0];
    const index = Number(holder.split('-')[1]);
    const stopped = before.workers.find((w) => w.index === index)!;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      // The upstream answers; the stopped worker cannot read its answer, so its slot stays leased.
      release();
      // Killed within workerTimeout (2 s) plus a status refresh or two, and forked again.
      const killed = await gw.waitFor('worker did not answer for server.workerTimeout: killing it', 30_000);
      expect(killed['pid']).toBe(stopped.pid);
      expect(await within(30_000, () => !alive(stopped.pid), 50)).toBe(true);
      expect(
        await within(
          60_000,
          async () => {
            const w = (await status()).workers.find((x) => x.index === index);
            return w !== undefined && w.pid !== stopped.pid && w.restarts === 1 && w.answering;
          },
          200,
        ),
      ).toBe(true);
    } finally {
      if (alive(stopped.pid)) process.kill(stopped.pid, 'SIGCONT');
    }
    // What the killed worker held is cut (its process is gone with its connections); the other worker's is answered.
    const ended = await Promise.all(first);
    expect(ended).toContain('closed');
    for (const e of ended) expect([200, 'closed']).toContain(e);
    // Its slot is back: the dead holder holds nothing, and two requests are in flight at once again.
    const after = await status();
    expect(Object.values(after.leases)[0]!.held[holder] ?? 0).toBe(0);
    arrived = 0;
    const second = [get(`${url}/hold/3`), get(`${url}/hold/4`)];
    expect(await within(30_000, () => arrived === 2)).toBe(true);
    release();
    const answers = await Promise.all(second);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  }, 240_000);
});
