// `--workers 2` when the kernel gives one worker every connection (SCHED_NONE: the workers accept
// for themselves; on a busy host one may take them all): the other worker's share of the limit
// must not sit idle. A retry storm on that one worker alone, its refused connections paused
// (pauseRefusedLoad 0: always), must still put the whole limit to work at the upstream — the
// idle worker gives its slots back, the busy one leases them and fills them from its paused
// connections (refusal-refill.ts) — and never more than the limit. Behaviour, not figures.
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneLimitYaml, sluice, tempDir, upstream, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';

afterEach(cleanup);

const LIMIT = 8;

interface Workers {
  workers: { index: number; status?: { connections: { open: number }; counters: { requests: number } } }[];
  leases: Record<string, { held: Record<string, number> }>;
}

const statusOf = async (adminUrl: string): Promise<Workers> => JSON.parse((await get(`${adminUrl}/status`)).body) as Workers;
const openOn = (s: Workers): number[] => s.workers.map((w) => w.status?.connections.open ?? 0);

/** One request on `agent` (keep-alive, one socket): its status and whether a refusal said Retry-After. */
function send(url: URL, agent: Agent): Promise<{ status: number; retryAfter: boolean }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] !== undefined }));
      res.on('error', () => resolve({ status: -1, retryAfter: false }));
    });
    req.on('error', () => resolve({ status: -1, retryAfter: false }));
    req.end();
  });
}

describe('sluice gateway --workers 2: every connection on one worker', () => {
  it('a retry storm on one worker puts the whole limit to work at the upstream, never more; every refusal has Retry-After', async () => {
    let inFlight = 0;
    let peak = 0;
    const up = await upstream((_req, res) => {
      peak = Math.max(peak, ++inFlight);
      res.once('close', () => inFlight--);
      setTimeout(() => res.end('ok'), 200);
    });
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, oneLimitYaml(up.url, LIMIT, 'workers: 2, pauseRefusedLoad: 0, keepAliveTimeout: 60s, headersTimeout: 60s'));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const url = new URL(String(l['url']));
    const adminUrl = String(l['adminUrl']);

    // Keep-alive clients of one socket each, kept only when the kernel gave their socket to the
    // worker that took the first one: each asks once, and /status says which worker it is on.
    const kept: Agent[] = [];
    let side: number | undefined;
    for (let tries = 0; kept.length < 3 * LIMIT && tries < 400; tries++) {
      const before = openOn(await statusOf(adminUrl));
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      expect((await send(url, agent)).status).toBe(200);
      const after = openOn(await statusOf(adminUrl));
      const on = after.findIndex((n, i) => n > before[i]!);
      // Not seen (another socket closed meanwhile): not kept.
      if (on >= 0) side ??= on;
      if (on >= 0 && on === side) kept.push(agent);
      else agent.destroy();
    }
    expect(kept.length).toBe(3 * LIMIT);
    const other = 1 - side!;
    await within(10_000, async () => openOn(await statusOf(adminUrl))[other] === 0);
    const otherRequests = (await statusOf(adminUrl)).workers[other]!.status!.counters.requests;

    // The storm: each client re-sends as soon as it has an answer, 503 included.
    let running = true;
    const tally = { ok: 0, refused: 0, refusedWithoutRetryAfter: 0, other: 0 };
    const loops = kept.map(async (agent) => {
      while (running) {
        const r = await send(url, agent);
        if (r.status === 200) tally.ok++;
        else if (r.status === 503) {
          tally.refused++;
          if (!r.retryAfter) tally.refusedWithoutRetryAfter++;
        } else tally.other++;
      }
    });
    // The whole limit in service at the upstream, through one worker, within a bound that is a hang guard.
    const full = await within(60_000, () => inFlight === LIMIT);
    const s = await statusOf(adminUrl);
    running = false;
    await Promise.all(loops);
    for (const a of kept) a.destroy();

    expect(full).toBe(true);
    expect(peak).toBeLessThanOrEqual(LIMIT);
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.refusedWithoutRetryAfter).toBe(0);
    expect(tally.other).toBe(0);
    // Every request of the storm went to the one worker: the other served none of them.
    expect(s.workers[other]!.status!.counters.requests).toBe(otherRequests);
    const [lease] = Object.values(s.leases);
    expect(Object.values(lease!.held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(LIMIT);
  }, WORKERS_TEST_MS);
});
