// Expect: 100-continue across a reload that changes the policy (limit-handover.ts,
// expect-continue.ts): a request admitted under the old config whose body is still arriving holds
// no slot (since early429 its concurrency gate is not asked until the body is in); once its body
// is in it asks for its place, and after the reload that place is the new gate's. Counted by the upstream itself (its own in-flight
// peak) and by /status; every wait is for a state, none for a time.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import type { Reply } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayStatus } from '../../src/gateway/index.js';
import { cleanup, get, sluice, startInProcess, tempDir, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';
import { heldUpstream } from './held-upstream.js';
import { ExpectClient, finalResponse, head } from './expect-client.js';

afterEach(cleanup);

function config(up: string, limit: number, queue: number): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    upstreams: { app: { url: up, timeout: '30s' } },
    server: { bodyTimeout: '30s' },
    policies: { api: { concurrency: { limit, queue, queueTimeout: '30s' } } },
    routes: [{ path: '/', policy: 'api' }],
  } as GatewayConfig;
}

/** The concurrency gate of every policy /status lists. */
function gates(gw: Gateway): { inFlight: number; queued: number; limit: number; admitted: number; released: number }[] {
  return gw.status().policies.map((p) => {
    const g = p.gates.find((x) => x.kind === 'concurrency')!;
    return { inFlight: g.inFlight ?? -1, queued: g.queued ?? -1, limit: g.limit ?? -1, admitted: g.admitted, released: g.released };
  });
}

const WAIT_MS = 10_000;

/** Two uploads admitted under the old config, told to continue, a part of their body sent. */
async function twoUploading(gw: Gateway): Promise<ExpectClient[]> {
  const clients = [new ExpectClient(gw.url), new ExpectClient(gw.url)];
  for (const c of clients) {
    c.write(head('Content-Length: 10\r\n'));
    expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    c.write('hello');
  }
  return clients;
}

describe('Expect: 100-continue uploads across a reload', () => {
  for (const [from, to] of [
    [2, 2],
    [2, 1],
  ] as const) {
    it(`limit ${from} -> ${to}: uploads admitted before the reload queue at the new gate for their place; the upstream never sees more than ${to === from ? from : `${to} new`} at once`, async () => {
      const up = await heldUpstream();
      const gw = await startInProcess(config(up.url, from, 10));
      const uploads = await twoUploading(gw);
      // Their slots went back while they upload (F15b).
      expect(gates(gw)).toMatchObject([{ inFlight: 0, queued: 0 }]);
      await gw.reload(config(up.url, to, 11));
      expect(gates(gw)).toMatchObject([{ inFlight: 0, queued: 0, limit: to }]);
      // New requests take the new limit's slots.
      const later: Promise<Reply>[] = Array.from({ length: to }, () => get(`${gw.url}/y`));
      expect(await within(WAIT_MS, () => up.now() === to)).toBe(true);
      // The uploads finish: each asks the new gate for its place, and waits there.
      for (const c of uploads) c.write('world');
      expect(await within(WAIT_MS, () => gates(gw)[0]!.queued === 2)).toBe(true);
      expect(up.now()).toBe(to);
      expect(gates(gw)).toMatchObject([{ inFlight: to, queued: 2, limit: to }]);
      // Served as slots free, never past the new limit.
      for (let left = to + 1; left >= 0; left--) {
        up.letGo(1);
        expect(await within(WAIT_MS, () => up.now() === Math.min(to, left))).toBe(true);
      }
      expect(up.peak()).toBe(to);
      expect((await Promise.all(later)).map((r) => r.status)).toEqual(Array.from({ length: to }, () => 200));
      for (const c of uploads) expect(await c.until(finalResponse)).toMatch(/HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      for (const c of uploads) c.close();
      // Every permit came back once, into the gate /status shows.
      expect(await within(WAIT_MS, () => gates(gw)[0]!.inFlight === 0)).toBe(true);
      // Each gate counts one admission and one release per request it admitted: the uploads asked for
      // their slot only once their bodies were in, after the reload, so they are the new gate's too.
      expect(gates(gw)).toMatchObject([{ inFlight: 0, queued: 0, limit: to, admitted: to + 2, released: to + 2 }]);
    });
  }
});

/** Two workers, limit 2 shared, `queue` places per worker's gate. */
const workersYaml = (up: string, queue: number): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { workers: 2, bodyTimeout: 30s }
upstreams:
  app: { url: ${up}, timeout: 30s }
policies:
  p: { concurrency: { limit: 2, queue: ${queue}, queueTimeout: 30s } }
routes:
  - { path: /, policy: p }
`;

describe('Expect: 100-continue uploads across a reload, with server.workers', () => {
  it('limit 2 shared by 2 workers: uploads admitted before the reload wait for a slot after it; the upstream never sees more than 2; in flight back to 0', async () => {
    const up = await heldUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, workersYaml(up.url, 10));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const url = String(l['url']);
    const status = async (): Promise<GatewayStatus> => JSON.parse((await get(`${String(l['adminUrl'])}/status`)).body) as GatewayStatus;
    const gate = async (): Promise<{ inFlight: number; queued: number; admitted: number; released: number }> => {
      const g = (await status()).policies[0]!.gates.find((x) => x.kind === 'concurrency')!;
      return { inFlight: g.inFlight ?? -1, queued: g.queued ?? -1, admitted: g.admitted, released: g.released };
    };
    const uploads = await twoUploading({ url } as Gateway);
    const from = gw.lines.length;
    writeFileSync(file, workersYaml(up.url, 11));
    gw.child.kill('SIGHUP');
    // The primary's line (a worker's has no workers count).
    expect(await within(30_000, () => gw.lines.slice(from).some((x) => x.includes('"msg":"reloaded"') && x.includes('"workers":')), 20)).toBe(true);
    const later: Promise<Reply>[] = [get(`${url}/y`), get(`${url}/y`)];
    expect(await within(WAIT_MS, () => up.now() === 2)).toBe(true);
    for (const c of uploads) c.write('world');
    expect(await within(WAIT_MS, async () => (await gate()).queued === 2, 50)).toBe(true);
    expect(up.now()).toBe(2);
    for (let left = 3; left >= 0; left--) {
      up.letGo(1);
      expect(await within(WAIT_MS, () => up.now() === Math.min(2, left))).toBe(true);
    }
    expect(up.peak()).toBe(2);
    expect((await Promise.all(later)).map((r) => r.status)).toEqual([200, 200]);
    for (const c of uploads) expect(await c.until(finalResponse)).toMatch(/HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    for (const c of uploads) c.close();
    // Nothing in flight, though a worker that leases no slot holds its gate's one slot as ballast (slot-lease.ts): that is no request.
    expect(await within(WAIT_MS, async () => (await gate()).inFlight === 0, 50)).toBe(true);
    // The new gates (summed) admitted and released the two later requests and the uploads (asked once their bodies were in).
    expect(await gate()).toMatchObject({ inFlight: 0, queued: 0, admitted: 4, released: 4 });
  }, WORKERS_TEST_MS);
});
