// In flight to an upstream, across every worker, never above its concurrency limit — counted
// by the upstream itself. The upstream here works on every request it accepted for its whole
// service time, whatever its client does meanwhile (a thread pool: a request whose connection
// closed is still worked on, as in the bench's upstream), so a permit the gateway gives back
// while the upstream still works shows as one request too many. Clients that keep their
// connections, clients that hang up at any moment, queue timeouts; ~10,000 requests;
// counts only, no timings.
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, sluice, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const LIMIT = 6;
const SERVICE_MS = 10;
const TOTAL = 10_000;
/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;
const TEST_MS = 300_000;

interface Count {
  now: number;
  peak: number;
  accepted: number;
}

/** Counts per first path segment: requests accepted whose work has not ended. */
async function workingUpstream(): Promise<{ url: string; counts: Map<string, Count> }> {
  const counts = new Map<string, Count>();
  const up = await upstream((req, res) => {
    const key = (req.url ?? '/').split('/')[1] ?? '';
    let c = counts.get(key);
    if (c === undefined) counts.set(key, (c = { now: 0, peak: 0, accepted: 0 }));
    const count = c;
    count.now++;
    count.accepted++;
    count.peak = Math.max(count.peak, count.now);
    req.resume();
    setTimeout(() => {
      count.now--;
      if (!res.destroyed) res.end('ok');
    }, SERVICE_MS);
  });
  // The gateway's pooled connections stay open through the test (no close racing a request).
  up.server.keepAliveTimeout = 60_000;
  return { url: up.url, counts };
}

interface Tally {
  sent: number;
  ok: number;
  refused: number;
  refusedWithoutRetryAfter: number;
  other: number;
  errors: number;
  /** Requests whose client hung up before the answer (on purpose). */
  abandoned: number;
}

/**
 * `keepers` keep-alive clients re-sending at once (a closed loop) and `leavers` clients on fresh
 * connections that hang up 0–3 service times after sending, alternating between `paths`,
 * until `total` requests were sent.
 */
async function run(url: string, paths: readonly string[], total: number, keepers: number, leavers: number): Promise<Tally> {
  const u = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: keepers });
  const t: Tally = { sent: 0, ok: 0, refused: 0, refusedWithoutRetryAfter: 0, other: 0, errors: 0, abandoned: 0 };
  const one = (leave: number | undefined): Promise<void> =>
    new Promise((resolve) => {
      const path = paths[t.sent % paths.length]!;
      t.sent++;
      let left = false;
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
        resolve();
      };
      const req = request({ host: u.hostname, port: u.port, path, agent: leave === undefined ? agent : false }, (res) => {
        res.resume();
        res.on('end', () =>
          settle(() => {
            const s = res.statusCode ?? 0;
            if (s === 200) t.ok++;
            else if (s === 503) {
              t.refused++;
              if (res.headers['retry-after'] === undefined) t.refusedWithoutRetryAfter++;
            } else t.other++;
          }),
        );
      });
      // Whatever ends it otherwise: a hang-up of ours, or an error.
      const cut = (): void => settle(() => (left ? t.abandoned++ : t.errors++));
      req.on('error', cut);
      req.on('close', cut);
      req.end();
      const timer =
        leave === undefined
          ? undefined
          : setTimeout(() => {
              left = true;
              req.destroy();
            }, leave);
    });
  const loop = async (i: number, leaver: boolean): Promise<void> => {
    for (let n = i; t.sent < total; n += 7) await one(leaver ? n % (3 * SERVICE_MS + 1) : undefined);
  };
  await Promise.all([...Array.from({ length: keepers }, (_x, i) => loop(i, false)), ...Array.from({ length: leavers }, (_x, i) => loop(i, true))]);
  agent.destroy();
  return t;
}

interface Status {
  workers: { status: { counters: { requests: number } } | undefined }[];
  leases: Record<string, { limit: number; held: Record<string, number> }>;
}

describe('sluice gateway --workers 2: in flight to the upstream, counted there', () => {
  it('never exceeds the limit — a named and an inline policy, clients that hang up, queue timeouts, 10,000 requests', async () => {
    const up = await workingUpstream();
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    const policy = `{ concurrency: { limit: ${LIMIT}, queue: 20, queueTimeout: 20ms } }`;
    writeFileSync(
      file,
      `
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
log: { level: info }
server: { workers: 2, pauseRefused: 0s }
upstreams: { app: { url: "${up.url}" } }
policies: { named: ${policy} }
routes:
  - { path: /named, upstream: app, policy: named }
  - { path: /inline, upstream: app, policy: ${policy} }
`,
    );
    const gw = sluice(['gateway', '--config', file]);
    const listening = await gw.waitFor('listening', START_MS);
    const t = await run(String(listening['url']), ['/named/x', '/inline/x'], TOTAL, 24, 16);
    // Every request the upstream accepted ends (its work is never cut short here).
    while ([...up.counts.values()].some((c) => c.now > 0)) await sleep(20);

    expect.soft(up.counts.get('named')!.peak).toBeLessThanOrEqual(LIMIT);
    expect.soft(up.counts.get('inline')!.peak).toBeLessThanOrEqual(LIMIT);
    // The load did what it is for: admissions on both routes, queue timeouts, hang-ups.
    expect(up.counts.get('named')!.accepted).toBeGreaterThan(0);
    expect(up.counts.get('inline')!.accepted).toBeGreaterThan(0);
    expect(t.ok).toBeGreaterThan(0);
    expect(t.refused).toBeGreaterThan(0);
    expect(t.abandoned).toBeGreaterThan(0);
    // Every request not hung up on was answered: 200, or 503 with Retry-After.
    expect(t).toMatchObject({ other: 0, errors: 0, refusedWithoutRetryAfter: 0 });
    expect(t.ok + t.refused + t.abandoned).toBe(t.sent);

    const status = JSON.parse((await get(`${String(listening['adminUrl'])}/status`)).body) as Status;
    for (const w of status.workers) expect(w.status?.counters.requests).toBeGreaterThan(0);
    // Both policies lease from the primary: one pool each, its holdings within the limit.
    const pools = Object.values(status.leases);
    expect(pools).toHaveLength(2);
    for (const p of pools) {
      expect(p.limit).toBe(LIMIT);
      expect(Object.values(p.held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(LIMIT);
    }
  }, TEST_MS);
});
