// A worker that dies while it serves (`sluice gateway --workers 2`, spawned): every client
// gets an answer or a clean close — none is left hanging — and a worker that crashes on an
// uncaught exception answers what it had in flight 502 (Connection: close) before it exits.
// The primary forks it again. Counts and statuses only, no timings.
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, sluice, upstream } from './helpers.js';
import type { Spawned } from './helpers.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;
const TEST_MS = 300_000;

interface WorkerStatus {
  index: number;
  pid: number;
  restarts: number;
  status: { counters: { requests: number } } | undefined;
}

async function workers(adminUrl: string): Promise<WorkerStatus[]> {
  return (JSON.parse((await get(`${adminUrl}/status`)).body) as { workers: WorkerStatus[] }).workers;
}

async function gateway(args: readonly string[], nodeArgs: readonly string[] = []): Promise<Spawned & { url: string; adminUrl: string }> {
  const s = sluice(args, nodeArgs);
  const l = await s.waitFor('listening', START_MS);
  return Object.assign(s, { url: String(l['url']), adminUrl: String(l['adminUrl']) });
}

/** Until worker `index` runs in a process other than `pid` and reports its status. */
async function replaced(adminUrl: string, index: number, pid: number): Promise<WorkerStatus> {
  for (;;) {
    const w = (await workers(adminUrl))[index]!;
    if (w.pid !== pid && w.status !== undefined) return w;
    await sleep(100);
  }
}

interface Reply {
  status: number;
  connection: string | undefined;
}

/** One request on a fresh connection, no client timeout: it settles with an answer or an error, or never. */
function once(url: string, path: string): Promise<Reply | Error> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      res.on('error', (err) => resolve(err));
    });
    req.on('error', (err) => resolve(err));
    req.end();
  });
}

describe('sluice gateway --workers 2: a worker that dies', () => {
  it('killed with SIGKILL under a storm of new connections, twice: every request is answered or its connection closed; none hangs', async () => {
    const up = await upstream((_req, res) => void setTimeout(() => res.end('ok'), 2));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2']);
    let sent = 0;
    let settled = 0;
    let ok = 0;
    let running = true;
    const loops = Array.from({ length: 16 }, async () => {
      while (running) {
        sent++;
        const r = await once(gw.url, '/x');
        settled++;
        if (!(r instanceof Error) && r.status === 200) ok++;
      }
    });
    // Not awaited while the storm runs: a hung request would hold its loop, not the test.
    void Promise.all(loops);
    for (let kill = 1; kill <= 2; kill++) {
      while (ok < kill * 200) await sleep(20);
      const victim = (await workers(gw.adminUrl))[0]!;
      const from = gw.lines.length;
      process.kill(victim.pid, 'SIGKILL');
      await gw.waitFor('worker died: its slots are back; forking a new one', START_MS, from);
      await replaced(gw.adminUrl, 0, victim.pid);
    }
    const okBeforeStop = ok;
    while (ok < okBeforeStop + 200) await sleep(20);
    running = false;
    // Every request sent settles: an answer, or an error for a connection the kernel reset.
    // A connection held open by nobody would never settle; 60 s is the bound of this wait, not a measurement.
    const until = Date.now() + 60_000;
    while (settled < sent && Date.now() < until) await sleep(50);
    expect(sent - settled).toBe(0);
    expect(ok).toBeGreaterThan(0);
  }, TEST_MS);

  it('crashing on an uncaught exception: its in-flight requests are answered 502 with Connection: close; the other worker loses nothing', async () => {
    const held: ServerResponse[] = [];
    let open = false;
    const up = await upstream((_req, res) => {
      if (open) res.end('ok');
      else held.push(res);
    });
    const gw = await gateway(
      ['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '6', '--queue', '100', '--queue-timeout', '120s'],
      ['--import', './test/gateway/fixtures/throw-on-sigusr2.mjs'],
    );
    // Requests on fresh connections until both workers have some (the kernel picks the worker
    // of each connection), all of them in flight: at the upstream (6) or queued for a slot.
    const replies: Promise<Reply | Error>[] = [];
    let ws = await workers(gw.adminUrl);
    const requestsOf = (w: WorkerStatus): number => w.status?.counters.requests ?? 0;
    while (ws.some((w) => requestsOf(w) === 0) || ws.reduce((n, w) => n + requestsOf(w), 0) < replies.length) {
      if (ws.some((w) => requestsOf(w) === 0) && replies.length < 200) for (let i = 0; i < 4; i++) replies.push(once(gw.url, `/r${replies.length}`));
      await sleep(200);
      ws = await workers(gw.adminUrl);
    }
    const [victim, survivor] = ws as [WorkerStatus, WorkerStatus];
    const from = gw.lines.length;
    process.kill(victim.pid, 'SIGUSR2');
    await gw.waitFor('worker died: its slots are back; forking a new one', START_MS, from);
    const crashed = gw.lines.slice(from).some((l) => l.includes('worker crashed'));
    // The survivor's requests complete once the upstream answers.
    open = true;
    for (const r of held.splice(0)) if (!r.destroyed) r.end('ok');
    const all = await Promise.all(replies);
    const statuses = all.map((r) => (r instanceof Error ? r.message : r.status));
    expect(crashed).toBe(true);
    expect(statuses.filter((s) => s === 502)).toHaveLength(requestsOf(victim));
    expect(statuses.filter((s) => s === 200)).toHaveLength(requestsOf(survivor));
    for (const r of all) if (!(r instanceof Error) && r.status === 502) expect(r.connection).toBe('close');
    await replaced(gw.adminUrl, victim.index, victim.pid);
  }, TEST_MS);
});
