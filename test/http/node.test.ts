// node:http adapter on real loopback sockets.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { GateEvent } from '../../src/core/index.js';
import { HttpAdmission, withAdmission } from '../../src/http/index.js';
import { abandon, close, get, listen, until } from './helpers.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map(close));
  servers = [];
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

const ok = (_req: IncomingMessage, res: ServerResponse): void => {
  res.end('ok');
};

describe('withAdmission (node:http)', () => {
  it('answers 429 with Retry-After, RateLimit fields and problem+json; successes carry RateLimit too', async () => {
    const port = await serve(withAdmission({ rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 2, name: 'burst' }] }, ok));
    const first = await get(port);
    expect(first).toMatchObject({ status: 200, body: 'ok' });
    expect(first.headers['ratelimit']).toBe('"burst";r=1;t=1');
    expect(first.headers['ratelimit-policy']).toBe('"burst";q=2;w=2');
    await get(port);
    const refused = await get(port);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^[0-9]+$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, reason: 'rate_limited', 'violated-policies': ['burst'] });
  });

  it('ignores a spoofed X-Forwarded-For from an untrusted peer', async () => {
    const policy = new HttpAdmission<IncomingMessage>({ rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 2 }] });
    const port = await serve(withAdmission(policy, ok));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(port, '/', { 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
  });

  it('reads X-Forwarded-For through trusted proxies only, from the right', async () => {
    const policy = new HttpAdmission<IncomingMessage>({ trustProxy: ['loopback'], rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 1 }] });
    const port = await serve(withAdmission(policy, ok));
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429);
    // The client forges a left entry; the proxy's (rightmost) entry still decides.
    expect((await get(port, '/', { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' })).status).toBe(429);
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
  });

  it('never crashes on garbage, huge or malformed proxy headers', async () => {
    const policy = new HttpAdmission<IncomingMessage>({ trustProxy: ['loopback'], rateLimits: [{ algorithm: 'gcra', rate: 1000, burst: 1000 }] });
    const port = await serve(withAdmission(policy, ok));
    const junk = ['', ',,,', 'garbage', '[::1', '1.2.3.4:99999', `${'1.1.1.1,'.repeat(1500)}`, '\u00ff\u00fe', 'x'.repeat(12_000), '::ffff:999.1.1.1'];
    for (const xff of junk) {
      const r = await get(port, '/', { 'x-forwarded-for': xff });
      expect(r.status).toBe(200);
    }
  });

  it('releases the permit of an abandoned request at once, as dropped', async () => {
    const policy = new HttpAdmission<IncomingMessage>({ concurrency: 4 });
    const outcomes: string[] = [];
    policy.concurrency!.on((e: GateEvent) => {
      if (e.type === 'release') outcomes.push(e.outcome);
    });
    const port = await serve(withAdmission(policy, () => undefined)); // never answers
    await abandon(port, '/slow', 50);
    await until(() => outcomes.length === 1);
    expect(outcomes).toEqual(['dropped']);
    expect(policy.concurrency!.inFlight).toBe(0);
  });

  it('takes a waiting request out of the queue when its client leaves', async () => {
    const policy = new HttpAdmission<IncomingMessage>({ concurrency: { limit: 1, maxQueue: 4, maxWaitMs: 10_000 } });
    const held: ServerResponse[] = [];
    const port = await serve(withAdmission(policy, (_req, res) => held.push(res)));
    const holder = get(port, '/hold');
    await until(() => held.length === 1);
    await abandon(port, '/wait', 50);
    await until(() => policy.concurrency!.queued === 0);
    expect(policy.concurrency!.inFlight).toBe(1);
    held[0]!.end('done');
    expect((await holder).status).toBe(200);
    await until(() => policy.concurrency!.inFlight === 0);
    expect(held).toHaveLength(1); // the abandoned request never ran
  });

  it('answers 503 at once when the queue cannot serve within the wait', async () => {
    // On a virtual clock: a request that queued would wait for ever (the clock is not moved
    // after the lesson), so a refusal at all means it never queued — no wall-clock bound, which
    // a busy host can overrun (before: 'refused within 600 ms' of wall time).
    const clock = new VirtualClock();
    const policy = new HttpAdmission<IncomingMessage>({ clock, concurrency: { limit: 1, maxQueue: 10, maxWaitMs: 600 } });
    const held: ServerResponse[] = [];
    const port = await serve(withAdmission(policy, (_req, res) => void held.push(res)));
    const teach = get(port, '/teach'); // one 1.5 s request: the service-time estimate
    await until(() => held.length === 1);
    clock.advance(1_500);
    held[0]!.end();
    expect((await teach).status).toBe(200);
    const slow = get(port, '/slow');
    await until(() => held.length === 2);
    let settled = false;
    const refusal = get(port, '/x').finally(() => (settled = true));
    await until(() => settled || policy.concurrency!.queued > 0);
    expect(policy.concurrency!.queued).toBe(0);
    const refused = await refusal;
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ reason: 'queue_timeout' });
    held[1]!.end();
    await slow;
  });

  it('lets exempt paths through and applies route settings', async () => {
    const handler = withAdmission({ exempt: ['/health'], rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 1 }] }, ok, {
      route: (req) => (req.url?.startsWith('/free') === true ? { exempt: true } : undefined),
    });
    const port = await serve(handler);
    for (let i = 0; i < 3; i++) expect((await get(port, '/health?probe=1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(port, '/free')).status).toBe(200);
    expect((await get(port, '/api')).status).toBe(200);
    expect((await get(port, '/api')).status).toBe(429);
  });

  it('answers 500 when the handler rejects', async () => {
    const port = await serve(withAdmission({}, () => Promise.reject(new Error('boom'))));
    expect((await get(port)).status).toBe(500);
  });
});
