// A reload that changes a policy builds a new concurrency gate; the old one hands its place over
// (limit-handover.ts): the requests it admitted count against the new limit until they end. Slow
// readers among them must yield their slots to the new gate's requests as they did to the old
// gate's. Until seam22 the gateway looked for slow readers under the gate a request asked — the
// new one — found none (they were listed under the old), and refused every request while the
// old gate's non-readers held the limit (503 concurrency, or a queue wait that ended in a 503).
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig, PolicyConfig } from '../../src/gateway/index.js';
import { GATEWAY_DEFAULTS } from '../../src/gateway/defaults.js';
import { nonReaders, writeBig } from './big-response.js';
import { cleanup, get, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

const LIMIT = 2;

function config(up: string, policy: PolicyConfig): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    // writeTimeout far off: the non-readers are cut for the slots they hold, not for not reading.
    server: { responseBuffer: '64kb', writeTimeout: '5m' },
    upstreams: { app: { url: up, timeout: '20s' } },
    policies: { api: policy },
    routes: [{ path: '/', policy: 'api' }],
  };
}

/** The one policy's concurrency gate as /status shows it. */
function gate(gw: Gateway): { inFlight: number; limit: number } {
  const g = gw.status().policies[0]!.gates.find((x) => x.kind === 'concurrency')!;
  return { inFlight: g.inFlight ?? -1, limit: g.limit ?? -1 };
}

describe('slow readers across a reload', () => {
  it('the new gate\'s requests take the slots the old gate\'s non-readers hold, counted in the new gate', { timeout: 60_000 }, async () => {
    const up = await upstream((req, res) => {
      req.resume();
      if (req.url === '/big') writeBig(res, 256);
      else res.end('small');
    });
    const gw = await startInProcess(config(up.url, { concurrency: LIMIT }));
    nonReaders(gw.url, LIMIT);
    expect(await within(20_000, () => gw.status().counters.slowReadersHeld === LIMIT, 20)).toBe(true);
    // A changed policy (a criticality header): a new gate, the old one's permits counted in it.
    await gw.reload(config(up.url, { concurrency: LIMIT, criticalityHeader: 'x-criticality' }));
    expect(gate(gw)).toEqual({ inFlight: LIMIT, limit: LIMIT });
    await sleep(GATEWAY_DEFAULTS.server.slowReaderCutAfterMs);
    // The kernel's buffers take a non-reader's bytes for a while: asked until one is slow enough.
    let a = await get(`${gw.url}/small`);
    for (let i = 0; i < 100 && a.status === 503; i++) {
      await sleep(100);
      a = await get(`${gw.url}/small`);
    }
    expect(`${a.status} ${a.body}`).toBe('200 small');
    expect(gw.status().counters.slowReadersCut).toBe(1);
    // The cut reader's slot came back to the new gate: one old non-reader is left in flight there.
    expect(await within(10_000, () => gate(gw).inFlight === LIMIT - 1, 20)).toBe(true);
  });
});
