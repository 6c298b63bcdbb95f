// A reload that changes a policy keeps one concurrency limit (limit-handover.ts): what the old
// gate admitted counts against the new limit, its queue moves to the new gate, and /status
// shows both. Counted by the upstream itself (its own in-flight peak); no timings: every wait
// is for a state, read from /status or the upstream's count.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import type { Reply } from './helpers.js';
import { cleanup, get, startInProcess, within } from './helpers.js';
import { heldUpstream } from './held-upstream.js';

afterEach(cleanup);

function config(up: string, limit: number, extra: Record<string, unknown> = {}): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    upstreams: { app: { url: up, timeout: '30s' } },
    policies: { api: { concurrency: { limit, queue: 10, queueTimeout: '30s' }, ...extra } },
    routes: [{ path: '/', policy: 'api' }],
  } as GatewayConfig;
}

/** The one policy's concurrency gate as /status shows it, and the gateway's queued count. */
function seen(gw: Gateway): { policies: number; inFlight: number; queued: number; limit: number; gatewayQueued: number } {
  const s = gw.status();
  const gate = s.policies[0]!.gates.find((g) => g.kind === 'concurrency')!;
  return { policies: s.policies.length, inFlight: gate.inFlight ?? -1, queued: gate.queued ?? -1, limit: gate.limit ?? -1, gatewayQueued: s.queued };
}

const WAIT_MS = 10_000;

describe('reload with a changed concurrency limit: one limit', () => {
  it('raising 1 -> 3 with 1 in flight and 3 queued serves 2 of the queue at once, the third when a slot frees', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(config(up.url, 1));
    const replies: Promise<Reply>[] = Array.from({ length: 4 }, () => get(`${gw.url}/x`));
    expect(await within(WAIT_MS, () => up.now() === 1 && seen(gw).queued === 3)).toBe(true);
    await gw.reload(config(up.url, 3));
    // At once: the queue moved to the new gate, which counts the old request as in flight.
    expect(await within(WAIT_MS, () => up.now() === 3)).toBe(true);
    expect(seen(gw)).toEqual({ policies: 1, inFlight: 3, queued: 1, limit: 3, gatewayQueued: 1 });
    up.letGo(1);
    expect(await within(WAIT_MS, () => up.now() === 3 && seen(gw).queued === 0)).toBe(true);
    expect(seen(gw)).toEqual({ policies: 1, inFlight: 3, queued: 0, limit: 3, gatewayQueued: 0 });
    up.letGo();
    expect(await within(WAIT_MS, () => up.now() === 0 && seen(gw).inFlight === 0)).toBe(true);
    up.letGo();
    expect((await Promise.all(replies)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(up.peak()).toBe(3);
  });

  it('lowering 3 -> 1 with 3 in flight admits nobody until in flight is under 1; the peak stays at the old in flight', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(config(up.url, 3));
    const first = Array.from({ length: 3 }, () => get(`${gw.url}/x`));
    expect(await within(WAIT_MS, () => up.now() === 3)).toBe(true);
    await gw.reload(config(up.url, 1));
    const later = Array.from({ length: 2 }, () => get(`${gw.url}/y`));
    expect(await within(WAIT_MS, () => seen(gw).queued === 2)).toBe(true);
    expect(seen(gw)).toEqual({ policies: 1, inFlight: 3, queued: 2, limit: 1, gatewayQueued: 2 });
    for (const left of [2, 1]) {
      up.letGo(1);
      // The release is seen (in flight falls), and nobody was admitted for it.
      expect(await within(WAIT_MS, () => seen(gw).inFlight === left)).toBe(true);
      expect(seen(gw)).toMatchObject({ inFlight: left, queued: 2 });
      expect(up.now()).toBe(left);
    }
    up.letGo(1);
    // The last old request done: one new one at a time, never more.
    expect(await within(WAIT_MS, () => up.now() === 1 && seen(gw).queued === 1)).toBe(true);
    up.letGo(1);
    expect(await within(WAIT_MS, () => up.now() === 1 && seen(gw).queued === 0)).toBe(true);
    up.letGo(1);
    expect((await Promise.all([...first, ...later])).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(up.peak()).toBe(3);
  });

  it('two reloads in a row (3 -> 2 -> 1) carry the oldest requests to the last gate', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(config(up.url, 3));
    const first = Array.from({ length: 3 }, () => get(`${gw.url}/x`));
    expect(await within(WAIT_MS, () => up.now() === 3)).toBe(true);
    await gw.reload(config(up.url, 2));
    await gw.reload(config(up.url, 1));
    const later = get(`${gw.url}/y`);
    expect(await within(WAIT_MS, () => seen(gw).queued === 1)).toBe(true);
    expect(seen(gw)).toEqual({ policies: 1, inFlight: 3, queued: 1, limit: 1, gatewayQueued: 1 });
    up.letGo(2);
    expect(await within(WAIT_MS, () => seen(gw).inFlight === 1)).toBe(true);
    expect(up.now()).toBe(1);
    up.letGo(1);
    expect(await within(WAIT_MS, () => up.now() === 1 && seen(gw).queued === 0)).toBe(true);
    up.letGo();
    expect((await Promise.all([...first, later])).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(up.peak()).toBe(3);
  });

  it('a change elsewhere in the policy (a rate limit added) keeps the limit whole too', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(config(up.url, 2));
    const first = Array.from({ length: 3 }, () => get(`${gw.url}/x`));
    expect(await within(WAIT_MS, () => up.now() === 2 && seen(gw).queued === 1)).toBe(true);
    await gw.reload(config(up.url, 2, { rateLimits: [{ rate: '1000/s', burst: 100 }] }));
    expect(seen(gw)).toEqual({ policies: 1, inFlight: 2, queued: 1, limit: 2, gatewayQueued: 1 });
    const later = get(`${gw.url}/y`);
    expect(await within(WAIT_MS, () => seen(gw).queued === 2)).toBe(true);
    expect(up.now()).toBe(2);
    up.letGo();
    expect(await within(WAIT_MS, () => up.now() === 2 && seen(gw).queued === 0)).toBe(true);
    up.letGo();
    expect(await within(WAIT_MS, () => up.now() === 0)).toBe(true);
    expect((await Promise.all([...first, later])).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(up.peak()).toBe(2);
  });
});
