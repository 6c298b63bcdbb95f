// A request decided before its body (Expect: 100-continue) spends its rate-limit units at its
// head. Refused by the gate it asks once the body is in (the concurrency limit filled while it
// uploaded), it is a refused request as one refused before its body is: its units are given
// back (GatePermit.cancel), as the gate chain gives them back when a later gate refuses. Until
// apisurface2 they stayed spent: the tenant paid a unit for a 503. The 503's RateLimit headers
// count them as given back (until ratelimithdr they showed the head's metering: one unit short).
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { ExpectClient, finalResponse, head } from './expect-client.js';
import { cleanup, get, oneRoute, startInProcess, within } from './helpers.js';
import { recordingUpstream } from './upload-client.js';

afterEach(cleanup);

const policy = { rateLimits: [{ rate: '1/h', burst: 3 }], concurrency: { limit: 1, queue: 0 } };
const route = (): Partial<GatewayConfig> => ({ routes: [{ path: '/', policy }] }) as Partial<GatewayConfig>;

describe('a later ask refused gives back the rate units the head spent', () => {
  it('the concurrency limit filled while the body came: 503, and the unit is back', async () => {
    const held: ServerResponse[] = [];
    const up = await recordingUpstream((res) => (res.req.url?.includes('/hold') === true ? held.push(res) : res.end('ok')));
    const gw = await startInProcess(oneRoute(up.url, '10s', route()));
    // Admitted at its head (the slot free): one unit spent, told to continue.
    const c = new ExpectClient(gw.url);
    c.write(head('Content-Length: 5\r\n'));
    expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/100 Continue/);
    // The slot taken meanwhile (a second unit), then the body: refused by the concurrency gate.
    const holder = get(`${gw.url}/hold`);
    expect(await within(10_000, () => held.length === 1)).toBe(true);
    c.write('hello');
    const later = await c.until(finalResponse);
    c.close();
    expect(later).toMatch(/HTTP\/1\.1 503 [^\r]*\r\n[\s\S]*"reason":"concurrency"/);
    held.splice(0).forEach((r) => r.end('held'));
    expect((await holder).status).toBe(200);
    // Burst 3, no refill within the test (1/h): the upload's unit came back, so two more pass.
    const after: number[] = [];
    for (let i = 0; i < 3; i++) after.push((await get(`${gw.url}/x${i}`)).status);
    expect(after).toEqual([200, 200, 429]);
  }, 30_000);

  it("its 503's RateLimit headers count the unit given back (ratelimithdr: they said it was spent)", async () => {
    const held: ServerResponse[] = [];
    const up = await recordingUpstream((res) => (res.req.url?.includes('/hold') === true ? held.push(res) : res.end('ok')));
    // Tenants by header: the slot's holder spends its own units, not the upload's.
    const keyed = { ...policy, tenant: { header: 'x-key' } };
    const gw = await startInProcess(oneRoute(up.url, '10s', { routes: [{ path: '/', policy: keyed }] } as Partial<GatewayConfig>));
    const c = new ExpectClient(gw.url);
    c.write(head('X-Key: a\r\nContent-Length: 5\r\n'));
    expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/100 Continue/);
    const holder = get(`${gw.url}/hold`, { headers: { 'x-key': 'b' } });
    expect(await within(10_000, () => held.length === 1)).toBe(true);
    c.write('hello');
    const later = await c.until(finalResponse);
    c.close();
    held.splice(0).forEach((r) => r.end('held'));
    expect((await holder).status).toBe(200);
    expect(later).toMatch(/HTTP\/1\.1 503 [^\r]*\r\n[\s\S]*"reason":"concurrency"/);
    // Metered at its head as r=2 (one of 3 spent, an hour to earn it back); given back, the quota is whole.
    expect(later.match(/\r\nRateLimit: [^\r]*/i)?.[0].trim()).toBe('RateLimit: "default";r=3;t=0');
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await get(`${gw.url}/x${i}`, { headers: { 'x-key': 'a' } })).status);
    expect(after).toEqual([200, 200, 200, 429]);
  }, 30_000);
});
