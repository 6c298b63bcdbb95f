// Tenant keys (API keys read from `tenant: { header }`) never reach the admin listener's
// readers: the dashboard shows each as a stable short hash (admin.tenantKeys: raw shows them),
// /status and /metrics carry none, nor does the refusal log — and a client sending thousands
// of distinct keys grows neither the dashboard's list nor the metrics' series.
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { JsonLogger } from '../../src/gateway/logger.js';
import { cleanup, get, onCleanup, oneRoute, upstream, within } from './helpers.js';

afterEach(cleanup);

const SECRET = 'sk_live_4f1b9c0e7d2a';

/** The dashboard's form of a key, computed here apart from the gateway: namespace, then 12 hex digits of SHA-256. */
const hashed = (key: string): string => `key:#${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

const config = (up: string, admin: GatewayConfig['admin'] = {}): GatewayConfig =>
  oneRoute(up, '5s', {
    admin: { port: 0, ...admin },
    // A refused keep-alive connection is read again at once (not after its Retry-After): the flood is quick.
    server: { pauseRefused: '0s' },
    policies: { api: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/min', burst: 1, maxKeys: 100_000 }] } },
    routes: [{ path: '/', upstream: 'app', policy: 'api' }],
  });

async function started(c: GatewayConfig): Promise<{ gw: Gateway; log: string[] }> {
  const log: string[] = [];
  const gw = await startGateway(c, { logger: new JsonLogger('info', (l) => log.push(l)) });
  onCleanup(() => gw.close());
  // The dashboard counts refusals from its first sample on (which listens to the gates): take it now.
  await snapshot(gw.adminUrl);
  return { gw, log };
}

/** `n` requests per key, over `parallel` kept-alive connections; the statuses counted. */
async function send(url: string, keys: readonly string[], n: number, parallel = 32): Promise<Record<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const u = new URL(url);
  const counts: Record<number, number> = {};
  const jobs = keys.flatMap((k) => Array.from({ length: n }, () => k));
  let next = 0;
  const one = (key: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/', agent, headers: { 'x-api-key': key } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  // Each key's requests one after another (the first admitted, the rest refused), keys in parallel.
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const key = jobs[next++]!;
      const s = await one(key);
      counts[s] = (counts[s] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return counts;
}

interface Snapshot {
  groups: { name: string; topTenants: [string, number][] }[];
}

async function snapshot(adminUrl: string): Promise<Snapshot> {
  return JSON.parse((await get(`${adminUrl}/dashboard/snapshot`)).body) as Snapshot;
}

/** The sluice_ series of a scrape, values left out (but signal latency's, which a timer starts sampling after a while). */
async function series(adminUrl: string): Promise<Set<string>> {
  const text = (await get(`${adminUrl}/metrics`)).body;
  return new Set(text.split('\n').filter((l) => l.startsWith('sluice_') && !l.startsWith('sluice_signal_latency')).map((l) => l.slice(0, l.lastIndexOf(' '))));
}

describe('tenant keys on the admin listener', () => {
  it('hashed by default: the dashboard, /status, /metrics and the log never show an API key, whatever keys a client floods with', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const { gw, log } = await started(config(up.url));
    // One heavy tenant: 1 admitted, 3 refused (1/min, burst 1).
    expect(await send(gw.url, [SECRET], 4, 1)).toEqual({ 200: 1, 429: 3 });
    expect(await within(5_000, async () => (await snapshot(gw.adminUrl)).groups[0]?.topTenants.length === 1, 50)).toBe(true);
    const before = await series(gw.adminUrl);
    // A client sending 3,000 distinct keys, each admitted once and refused once.
    const flood = Array.from({ length: 3000 }, (_, i) => `sk_flood_${i.toString(36)}_${SECRET}`);
    expect(await send(gw.url, flood, 2)).toEqual({ 200: 3000, 429: 3000 });
    let snap: Snapshot | undefined;
    // The next sample counts the flood's refusals: 3,001 tenants refused, the heavy one first.
    expect(await within(5_000, async () => (snap = await snapshot(gw.adminUrl)).groups[0]?.topTenants.length === 10, 50)).toBe(true);
    const top = snap!.groups[0]!.topTenants;
    expect(top[0]).toEqual([hashed(`key:${SECRET}`), 3]);
    for (const [t, n] of top.slice(1)) {
      expect(t).toMatch(/^key:#[0-9a-f]{12}$/);
      expect(n).toBe(1);
    }
    const events = await firstEvent(gw.adminUrl);
    const status = (await get(`${gw.adminUrl}/status`)).body;
    const metrics = (await get(`${gw.adminUrl}/metrics`)).body;
    expect(await within(5_000, () => log.some((l) => l.includes('"msg":"rejected"')), 50)).toBe(true);
    for (const [where, text] of Object.entries({ snapshot: JSON.stringify(snap), events, status, metrics, log: log.join('\n') })) {
      expect(text.includes('sk_live') || text.includes('sk_flood'), where).toBe(false);
    }
    // /status counts the keys (all 3,001 metered), never lists them.
    expect(status).toMatch(/"keys": 3001/);
    // No series per key: the flood added none.
    expect(await series(gw.adminUrl)).toEqual(before);
    expect([...before].some((s) => s.includes('tenant='))).toBe(false);
  });

  it('admin.tenantKeys: raw shows the keys themselves', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const { gw } = await started(config(up.url, { tenantKeys: 'raw' }));
    expect(await send(gw.url, [SECRET], 3, 1)).toEqual({ 200: 1, 429: 2 });
    let snap: Snapshot | undefined;
    expect(await within(5_000, async () => (snap = await snapshot(gw.adminUrl)).groups[0]?.topTenants.length === 1, 50)).toBe(true);
    expect(snap!.groups[0]!.topTenants).toEqual([[`key:${SECRET}`, 2]]);
  });

  it('a key written as the hashed form of a long key has its own bucket, not the long key\'s', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const { gw } = await started(config(up.url));
    // A key over 128 characters is metered under sha256:<its SHA-256, base64url>; one that reads
    // like that form was metered as written, in the same bucket (hostile pass).
    const long = `sk_long_${'x'.repeat(200)}`;
    const lookalike = `sha256:${createHash('sha256').update(long).digest('base64url')}`;
    expect(await send(gw.url, [long], 1, 1)).toEqual({ 200: 1 });
    expect(await send(gw.url, [lookalike], 1, 1)).toEqual({ 200: 1 });
    // Each bucket has its own one request a minute.
    expect(await send(gw.url, [long, lookalike], 1, 1)).toEqual({ 429: 2 });
  });

  it('an address is shown as it is (no secret), under tenant: ip', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const c = config(up.url);
    const { gw } = await started({ ...c, policies: { api: { rateLimits: [{ rate: '1/min', burst: 1 }] } } });
    expect(await send(gw.url, ['ignored'], 2, 1)).toEqual({ 200: 1, 429: 1 });
    let snap: Snapshot | undefined;
    expect(await within(5_000, async () => (snap = await snapshot(gw.adminUrl)).groups[0]?.topTenants.length === 1, 50)).toBe(true);
    expect(snap!.groups[0]!.topTenants).toEqual([['ip:127.0.0.1', 1]]);
  });
});

/** The first Server-Sent Event a page gets on connecting (the history). */
function firstEvent(adminUrl: string): Promise<string> {
  const u = new URL(`${adminUrl}/dashboard/events`);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (text.includes('\n\n')) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}
