// `sluice gateway --workers N`: several processes serve one port and share ONE limit. A real
// multi-worker gateway (the CLI, spawned) in front of an upstream that counts its own peak
// in-flight; behaviour only (counts, bounds, status codes), no throughput thresholds.
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, sluice, tempDir, upstream, primaryLine, within } from './helpers.js';
import type { Spawned } from './helpers.js';

afterEach(cleanup);

/**
 * An upstream that answers after `ms`, counting in-flight itself: from arrival until its response ends or its client
 * goes. `hold`: a promise that answers wait for too (a test's moment, not a duration).
 */
async function countingUpstream(ms: number, hold: Promise<void> = Promise.resolve()): Promise<{ url: string; peak: () => number; inFlight: () => number }> {
  let inFlight = 0;
  let peak = 0;
  const up = await upstream((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.once('close', end);
    setTimeout(() => void hold.then(() => res.end(`ok ${req.url}`)), ms);
  });
  return { url: up.url, peak: () => peak, inFlight: () => inFlight };
}

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;
const TEST_MS = 240_000;

async function gateway(args: readonly string[]): Promise<Spawned & { url: string; adminUrl: string }> {
  const s = sluice(args);
  const l = await s.waitFor('listening', START_MS);
  return Object.assign(s, { url: String(l['url']), adminUrl: String(l['adminUrl']) });
}

interface Tally {
  ok: number;
  refused: number;
  refusedWithoutRetryAfter: number;
  errors: number;
  other: number;
}

/**
 * `clients` keep-alive clients, each sending its next request as soon as it has an answer (closed
 * loop), until `stop()`. `keepAlive: false`: a
 * new connection for every request — with the workers accepting for themselves (SCHED_NONE), the
 * kernel may hand a handful of connections opened at once all to one worker on a busy host.
 */
function closedLoop(url: string, clients: number, headers: Record<string, string> = {}, keepAlive = true): { tally: Tally; stop: () => Promise<void> } {
  const agent = new Agent({ keepAlive, maxSockets: clients });
  const tally: Tally = { ok: 0, refused: 0, refusedWithoutRetryAfter: 0, errors: 0, other: 0 };
  let running = true;
  const u = new URL(url);
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          if (s === 200) tally.ok++;
          else if (s === 503 || s === 429) {
            tally.refused++;
            if (res.headers['retry-after'] === undefined) tally.refusedWithoutRetryAfter++;
          } else tally.other++;
          resolve();
        });
        res.on('error', () => {
          tally.errors++;
          resolve();
        });
      });
      req.on('error', () => {
        tally.errors++;
        resolve();
      });
      req.end();
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) await one();
  });
  return {
    tally,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

interface WorkerStatus {
  index: number;
  pid: number;
  restarts: number;
  status: { counters: { requests: number; admitted: number } } | undefined;
}

async function statusOf(adminUrl: string): Promise<{ workers: WorkerStatus[]; counters: { requests: number; admitted: number }; policies: { gates: { kind: string; limit: number; inFlight: number }[] }[]; leases: Record<string, { limit: number; held: Record<string, number> }> }> {
  return JSON.parse((await get(`${adminUrl}/status`)).body);
}

describe('sluice gateway --workers', () => {
  it('two workers share one concurrency limit: in-flight at the upstream never exceeds it; every refusal has Retry-After; /status and /metrics cover both', async () => {
    const up = await countingUpstream(20);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '6', '--queue-timeout', '200ms', '--workers', '2']);
    const load = closedLoop(gw.url, 40);
    await sleep(2_000);
    await load.stop();
    expect(up.peak()).toBeLessThanOrEqual(6);
    expect(load.tally.ok).toBeGreaterThan(0);
    expect(load.tally.refusedWithoutRetryAfter).toBe(0);
    expect(load.tally.errors + load.tally.other).toBe(0);

    const status = await statusOf(gw.adminUrl);
    expect(status.workers).toHaveLength(2);
    for (const w of status.workers) expect(w.status?.counters.requests).toBeGreaterThanOrEqual(0);
    expect(status.counters.requests).toBe(status.workers.reduce((n, w) => n + (w.status?.counters.requests ?? 0), 0));
    expect(status.counters.admitted).toBe(load.tally.ok);
    // The slots leased across workers add up to the limit, never more.
    const [lease] = Object.values(status.leases);
    expect(lease!.limit).toBe(6);
    expect(Object.values(lease!.held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);
    const gate = status.policies[0]!.gates.find((g) => g.kind === 'concurrency')!;
    expect(gate.limit).toBeLessThanOrEqual(6);

    const metrics = await get(`${gw.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/worker="0"/);
    expect(metrics.body).toMatch(/worker="1"/);

    // /dashboard on the primary: every worker's samples merged, converging on the admissions
    // /status counts at the policy's gate (the load has stopped; both settle within seconds).
    const page = await get(`${gw.adminUrl}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    type Snap = { groups: { name: string; admitted: number; limit: number | null }[] };
    let snap: Snap = { groups: [] };
    let gateAdmitted = -1;
    for (let i = 0; i < 60; i++) {
      snap = JSON.parse((await get(`${gw.adminUrl}/dashboard/snapshot`)).body) as Snap;
      const gates = (await statusOf(gw.adminUrl)).policies[0]!.gates as { admitted?: number }[];
      gateAdmitted = gates[gates.length - 1]!.admitted ?? -1;
      if (snap.groups[0]?.admitted === gateAdmitted) break;
      await sleep(250);
    }
    expect(snap.groups).toHaveLength(1);
    expect(snap.groups[0]!.admitted).toBe(gateAdmitted);
    expect(gateAdmitted).toBeGreaterThanOrEqual(status.counters.admitted);
    expect(snap.groups[0]!.limit).toBeLessThanOrEqual(6);

    // Both workers serve. Which worker accepts a connection is the kernel's choice (each worker
    // accepts for itself), and in 2 s beside a CPU hog one of them took all 40 keep-alive
    // connections (fresh-clone CI at 386b754: 'expected 0 to be greater than 0'). So connections
    // are opened one at a time (get: a connection each) until each worker has served one.
    const perWorker = async (): Promise<number[]> => (await statusOf(gw.adminUrl)).workers.map((w) => w.status?.counters.requests ?? 0);
    const bothServed = await within(60_000, async () => {
      await get(`${gw.url}/`);
      return (await perWorker()).every((n) => n > 0);
    }, 0);
    expect(bothServed, `requests per worker: ${JSON.stringify(await perWorker())}`).toBe(true);
  }, TEST_MS);

  it('two workers share one rate limit: never more admitted than rate × t + burst in total', async () => {
    const up = await countingUpstream(0);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '5/s', '--burst', '5', '--workers', '2']);
    const started = performance.now();
    // A connection per request: both workers get some (the last assertion), whatever the kernel does with 16 opened at once.
    const load = closedLoop(gw.url, 16, {}, false);
    await sleep(2_000);
    await load.stop();
    const seconds = (performance.now() - started) / 1000;
    expect(load.tally).toMatchObject({ errors: 0, other: 0 });
    expect(load.tally.ok).toBeGreaterThan(0);
    expect(load.tally.ok).toBeLessThanOrEqual(Math.floor(5 * seconds + 5));
    expect(load.tally.refused).toBeGreaterThan(0);
    expect(load.tally.refusedWithoutRetryAfter).toBe(0);
    const status = await statusOf(gw.adminUrl);
    for (const w of status.workers) expect(w.status?.counters.requests).toBeGreaterThan(0);
  }, TEST_MS);

  it('a worker killed with SIGKILL mid-load: its slots come back, the primary forks a new one, the other worker loses nothing', async () => {
    const up = await countingUpstream(50);
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '4', '--queue-timeout', '500ms', '--workers', '2']);
    const load = closedLoop(gw.url, 12);
    await sleep(500);
    const before = await statusOf(gw.adminUrl);
    const victim = before.workers[0]!;
    const survivor = before.workers[1]!;
    const survivorAdmittedBefore = survivor.status!.counters.admitted;
    process.kill(victim.pid, 'SIGKILL');
    await gw.waitFor('worker died: its slots are back; forking a new one', START_MS);
    // The new worker listens and takes its share again.
    let after = await statusOf(gw.adminUrl);
    const until = performance.now() + START_MS;
    while ((after.workers[0]!.pid === victim.pid || after.workers[0]!.status === undefined) && performance.now() < until) {
      await sleep(100);
      after = await statusOf(gw.adminUrl);
    }
    expect(after.workers[0]!.pid).not.toBe(victim.pid);
    expect(after.workers[0]!.restarts).toBe(1);
    expect(after.workers[1]!.pid).toBe(survivor.pid);
    await sleep(500);
    await load.stop();
    // Only connections that were on the killed worker can have failed; the survivor's admitted requests all completed.
    const final = await statusOf(gw.adminUrl);
    expect(final.workers[1]!.status!.counters.admitted).toBeGreaterThan(survivorAdmittedBefore);
    expect(load.tally.errors).toBeLessThanOrEqual(12);
    expect(load.tally.refusedWithoutRetryAfter).toBe(0);
    expect(up.peak()).toBeLessThanOrEqual(4);
    const [lease] = Object.values(final.leases);
    expect(Object.keys(lease!.held)).toHaveLength(2); // the dead worker's holding is gone, the new one's is there
    expect(Object.values(lease!.held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4);
  }, TEST_MS);

  it('SIGHUP reloads every worker; SIGTERM drains every worker and exits 0', async () => {
    // The 4 requests are answered once both workers drain (a 300 ms answer ended before a busy host had
    // forwarded the 4th: the test waited for 4 in flight until its timeout, beside a CPU hog).
    let drained = (): void => undefined;
    const up = await countingUpstream(0, new Promise<void>((resolve) => (drained = resolve)));
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    const yaml = (limit: number): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
log: { level: info }
server: { workers: 2 }
upstreams: { app: { url: "${up.url}" } }
policies: { p: { concurrency: { limit: ${limit}, queue: 10, queueTimeout: 2s } } }
routes: [ { path: /, upstream: app, policy: p } ]
`;
    writeFileSync(file, yaml(4));
    const gw = await gateway(['gateway', '--config', file]);
    expect((await statusOf(gw.adminUrl)).workers).toHaveLength(2);
    const from = gw.lines.length;
    writeFileSync(file, yaml(8));
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', START_MS, from, primaryLine);
    const reloaded = await statusOf(gw.adminUrl);
    expect(Object.values(reloaded.leases).some((l) => l.limit === 8)).toBe(true);

    // In flight when SIGTERM comes: finished, not cut.
    const inFlight = Promise.all(Array.from({ length: 4 }, () => get(`${gw.url}/slow`)));
    expect(await within(60_000, () => up.inFlight() === 4, 10)).toBe(true);
    const before = gw.lines.length;
    gw.child.kill('SIGTERM');
    const draining = (): number => gw.lines.slice(before).filter((l) => /"msg":"draining"/.test(l) && /"worker":/.test(l)).length;
    expect(await within(60_000, () => draining() === 2, 20)).toBe(true);
    drained();
    const replies = await inFlight;
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await gw.exited).toBe(0);
  }, TEST_MS);
});
