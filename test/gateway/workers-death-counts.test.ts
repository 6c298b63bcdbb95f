// `sluice gateway --workers 2`: a worker killed between two scrapes takes at most the last
// second's counts with it. The primary's status poll (once a second) brings each worker's
// totals; /metrics and /status carry a dead worker's counts from there. Before, /metrics carried
// what the dead process showed at the last /metrics scrape (none here: every count of it lost),
// and /status left the dead worker out altogether, so its requests went from `counters.requests`.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardSample } from '../../src/dashboard/dashboard.js';
import type { PrimaryStatus } from '../../src/gateway/primary.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, metricSample, oneLimitYaml, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

/** GET `path` over `agent` (one keep-alive connection: the same worker each time); its status and the client's port. */
function keepAliveGet(url: string, agent: Agent): Promise<{ status: number; localPort: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, localPort: req.socket?.localPort ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Which of `pids` holds the gateway's end of the loopback connection from client port `clientPort` to `port` (Linux /proc). */
function holderOf(pids: readonly number[], port: number, clientPort: number): number | undefined {
  const hex = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(port)}`) === true && f[2]?.endsWith(`:${hex(clientPort)}`) === true);
  if (row === undefined) return undefined;
  const inode = `socket:[${row[9]}]`;
  return pids.find((pid) => readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }) === inode));
}

describe('sluice gateway --workers 2: a worker killed between two scrapes', () => {
  it('takes no count with it that the primary polled: /metrics and /status include its requests', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, oneLimitYaml(up.url, 10, 'workers: 2'));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const [url, adminUrl] = [String(l['url']), String(l['adminUrl'])];
    const status = async (): Promise<PrimaryStatus> => JSON.parse((await get(`${adminUrl}/status`)).body) as PrimaryStatus;
    expect(await within(60_000, async () => (await status()).workers.every((w) => w.pid > 0 && w.status !== undefined), 50)).toBe(true);
    const pids = (await status()).workers.map((w) => w.pid);

    // N requests over one connection: one worker serves them all.
    const N = 25;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let clientPort = 0;
    for (let i = 0; i < N; i++) {
      const r = await keepAliveGet(`${url}/x`, agent);
      expect(r.status).toBe(200);
      clientPort = r.localPort;
    }
    const victim = holderOf(pids, Number(new URL(url).port), clientPort);
    expect(victim).toBeDefined();
    // No scrape, no /status: the dashboard (the primary's copy of the workers' polled samples) says when the poll saw them.
    const admitted = async (): Promise<number> => ((JSON.parse((await get(`${adminUrl}/dashboard/snapshot`)).body) as DashboardSample).groups ?? []).reduce((a, g) => a + g.admitted, 0);
    expect(await within(60_000, async () => (await admitted()) === N, 100)).toBe(true);
    const from = gw.lines.length;
    process.kill(victim!, 'SIGKILL');
    agent.destroy();
    await gw.waitFor('worker died: its slots are back; forking a new one', 30_000, from);

    // Before: 0 (the first scrape: the dead worker had answered none, its place had nothing to carry).
    const gap = (await get(`${adminUrl}/metrics`)).body;
    expect(metricSample(gap, 'sluice_admissions_total', { gate: 'p-concurrency' })).toBe(N);

    // Its replacement listens: the dead process's counts are carried in both.
    const index = pids.indexOf(victim!);
    expect(await within(90_000, async () => (await status()).workers[index]!.pid !== victim && (await status()).workers[index]!.status !== undefined, 200)).toBe(true);
    const after = await status();
    // Before: 0 (a dead worker's status left out of the sum, its counts with it).
    expect(after.counters.requests).toBe(N);
    expect(after.counters.admitted).toBe(N);
    expect(after.policies.find((p) => p.name === 'p')?.gates.find((g) => g.kind === 'concurrency')).toMatchObject({ admitted: N, released: N, inFlight: 0 });
    // Levels are not carried: no connection of the dead worker's is open.
    expect(after.connections.open).toBe(0);
    const page = (await get(`${adminUrl}/metrics`)).body;
    expect(metricSample(page, 'sluice_admissions_total', { gate: 'p-concurrency' })).toBe(N);
    expect(metricSample(page, 'sluice_releases_total', { gate: 'p-concurrency' })).toBe(N);
  });
});
