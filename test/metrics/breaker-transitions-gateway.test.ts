// A gateway's breaker openings in sluice_breaker_transitions_total: counted from the start, and
// a reload that rebuilds the breaker (its policy changed) goes on adding to the same series;
// scrapes taken while reloads happen all answer.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, metricSample as sample, startInProcess, upstream } from '../gateway/helpers.js';

afterEach(cleanup);

const config = (up: string, failures: number): GatewayConfig => ({
  listen: { host: '127.0.0.1', port: 0 },
  admin: { port: 0 },
  log: { level: 'silent' },
  upstreams: { app: { url: up } },
  policies: { p: { breaker: { failures, openFor: '1m' } } },
  routes: [{ path: '/', policy: 'p' }],
});

describe('gateway breaker transitions', () => {
  it('every opening counted, across a reload that rebuilds the breaker, with scrapes during the reloads', async () => {
    const up = await upstream((_req, res) => {
      res.statusCode = 500;
      res.end('down');
    });
    const gw = await startInProcess(config(up.url, 1));
    const gate = 'p-breaker';
    const first = (await gw.metrics())!;
    expect(sample(first, 'sluice_breaker_transitions_total', { gate, to: 'open' })).toBe(0);
    expect((await get(gw.url)).status).toBe(500); // opens
    expect((await get(gw.url)).status).toBe(503); // circuit_open
    expect(sample((await gw.metrics())!, 'sluice_breaker_transitions_total', { gate, to: 'open' })).toBe(1);
    // Reloads (the breaker rebuilt each time) with scrapes over the admin port meanwhile.
    const scrapes: Promise<number>[] = [];
    for (let i = 2; i <= 5; i++) {
      scrapes.push(get(`${gw.adminUrl}/metrics`).then((r) => r.status));
      await gw.reload(config(up.url, i % 2 === 0 ? 2 : 1));
    }
    expect(new Set(await Promise.all(scrapes))).toEqual(new Set([200]));
    // The rebuilt breaker (failures: 1) opens again: the same series, 2.
    expect((await get(gw.url)).status).toBe(500);
    expect((await get(gw.url)).status).toBe(503);
    expect(sample((await gw.metrics())!, 'sluice_breaker_transitions_total', { gate, to: 'open' })).toBe(2);
  });
});
