// expectlater: a request decided before its body (Expect: 100-continue here) asks for its slot —
// and a breaker's permit set aside while it uploaded — once its body is in. Refused then, it is
// answered as any refusal of that gate is: the same status, reason, Retry-After and headers, the
// same counters and route log, and, its body read whole, its connection kept alive and handed to
// the refusal pacer (/status paused: total + unpaced) as every kept-alive refusal is. Until
// expectlater the later refusal had a path of its own (responses.ts writeRejection): never paced,
// no drain Retry-After, no storeUnavailable count, no RateLimit headers; and one refused at the
// gateway's cap (server.maxQueued) closed its connection though its body was read, while the first
// ask refused there with its body read kept it. Each later refusal is compared with a body-less
// request's refusal by the same gate in the same state, on keep-alive connections.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { ExpectClient, finalResponse, head } from './expect-client.js';
import { cleanup, get, oneRoute, startInProcess, upstream, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { firstResponse, recordingUpstream, statuses } from './upload-client.js';

afterEach(cleanup);

const route = (policy: object, server: object = {}): Partial<GatewayConfig> => ({ server, routes: [{ path: '/', policy }] }) as Partial<GatewayConfig>;

/** An upstream that holds a target with `/hold` in it until `release()`; anything else is answered once its body is in. */
async function holdingUpstream(): Promise<{ seen: string[]; url: string; release: () => void }> {
  const held: ServerResponse[] = [];
  const up = await recordingUpstream((res) => (res.req.url?.includes('/hold') === true ? held.push(res) : res.end('ok')));
  return { ...up, release: () => held.splice(0).forEach((r) => r.end('held')) };
}

/** A body-less GET on a keep-alive connection: its answer's text. */
async function keptAliveGet(url: string, target = '/x'): Promise<string> {
  const c = rawSocket(url);
  c.socket.write(`GET ${target} HTTP/1.1\r\nHost: gw\r\n\r\n`);
  expect(await within(10_000, () => finalResponse(c.text()))).toBe(true);
  const text = c.text();
  c.socket.destroy();
  return text;
}

interface Answer {
  readonly status: string;
  readonly lines: string[];
  readonly retryS: number;
  readonly body: Record<string, unknown>;
}

/** An answer's status line, its header lines but Date and Retry-After (lower-cased, sorted), its Retry-After and its problem. */
function answerOf(text: string): Answer {
  const { head: h, body } = firstResponse(text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
  const [status, ...rest] = h.split('\r\n');
  const lines = rest.map((l) => l.toLowerCase()).filter((l) => !l.startsWith('date:') && !l.startsWith('retry-after:'));
  return { status: status!, lines: lines.sort(), retryS: Number(/\r\nretry-after: (\d+)/i.exec(h)?.[1] ?? NaN), body: JSON.parse(body) as Record<string, unknown> };
}

/** `later` (a refusal after the body) answered as `ordinary` (a body-less request's, same gate): only Retry-After may tick by 1 s between the two. */
function sameAnswer(later: string, ordinary: string, reason: string): void {
  const [a, b] = [answerOf(later), answerOf(ordinary)];
  expect(a.status).toMatch(/^HTTP\/1\.1 503 /);
  expect(a.lines).not.toContain('connection: close');
  expect([a.status, a.lines, { ...a.body, detail: 0, retryAfter: 0 }]).toEqual([b.status, b.lines, { ...b.body, detail: 0, retryAfter: 0 }]);
  expect(a.body).toMatchObject({ reason });
  expect(Math.abs(a.retryS - b.retryS)).toBeLessThanOrEqual(1);
  expect(a.retryS).toBeGreaterThanOrEqual(1);
}

/** Refusals of kept-alive connections handed to the refusal pacer (paused, or counted unpaced). */
const paced = (gw: Gateway): number => gw.status().paused.total + gw.status().paused.unpaced;

/** An Expect: 100-continue upload of `hello` told to continue; `send()` sends its body. */
async function continued(url: string, target = '/x'): Promise<{ c: ExpectClient; send: () => Promise<string> }> {
  const c = new ExpectClient(url);
  c.write(head('Content-Length: 5\r\n').replace('POST /x ', `POST ${target} `));
  expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  return { c, send: () => (c.write('hello'), c.until(finalResponse)) };
}

describe('a slot asked for once the body is in, refused, is answered as any refusal by its gate', () => {
  it('the queue full', async () => {
    const up = await holdingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '10s', route({ concurrency: { limit: 1, queue: 1, queueTimeout: '20s' } })));
    const holder = get(`${gw.url}/hold`);
    expect(await within(10_000, () => up.seen.length === 1)).toBe(true);
    // Admitted at its head (the queue had room), then the queue's one place taken.
    const upload = await continued(gw.url);
    const waiter = get(`${gw.url}/hold-wait`);
    expect(await within(10_000, () => gw.status().policies[0]!.gates[0]!.queued === 1)).toBe(true);
    const later = await upload.send();
    upload.c.close();
    const ordinary = await keptAliveGet(gw.url);
    sameAnswer(later, ordinary, 'queue_full');
    // Before expectlater: expected 1 to be 2 — the later refusal was never handed to the pacer.
    expect(paced(gw)).toBe(2);
    expect(gw.status().counters).toMatchObject({ rejected: 2, admitted: 1 });
    up.release();
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    up.release();
    expect([(await holder).status, (await waiter).status]).toEqual([200, 200]);
    expect(up.seen).toEqual(['GET /hold 0', 'GET /hold-wait 0']);
  }, 30_000);

  it('the wait past the queue timeout', async () => {
    const up = await holdingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '10s', route({ concurrency: { limit: 1, queue: 4, queueTimeout: '300ms' } })));
    const holder = get(`${gw.url}/hold`);
    expect(await within(10_000, () => up.seen.length === 1)).toBe(true);
    const upload = await continued(gw.url);
    // Both wait in the queue, and both are refused at their timeout.
    const [later, ordinary] = await Promise.all([upload.send(), keptAliveGet(gw.url)]);
    upload.c.close();
    sameAnswer(later, ordinary, 'queue_timeout');
    // Before expectlater: expected 1 to be 2.
    expect(paced(gw)).toBe(2);
    expect(gw.status().counters).toMatchObject({ rejected: 2, admitted: 1 });
    up.release();
    expect((await holder).status).toBe(200);
    expect(up.seen).toEqual(['GET /hold 0']);
  }, 30_000);

  it('the breaker opened while the body came', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      req.resume();
      seen.push(`${req.method} ${req.url}`);
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end('x');
    });
    const gw = await startInProcess(oneRoute(up.url, '10s', route({ breaker: { failures: 2, openFor: '1m' } })));
    const upload = await continued(gw.url);
    for (let i = 0; i < 2; i++) expect((await get(`${gw.url}/fail`)).status).toBe(500);
    const later = await upload.send();
    upload.c.close();
    const ordinary = await keptAliveGet(gw.url);
    sameAnswer(later, ordinary, 'circuit_open');
    // Before expectlater: expected 1 to be 2.
    expect(paced(gw)).toBe(2);
    expect(gw.status().counters).toMatchObject({ rejected: 2 });
    expect(seen).toEqual(['GET /fail', 'GET /fail']);
  }, 30_000);

  it("at the gateway's cap (server.maxQueued), body read: kept alive, as the first ask refused there is", async () => {
    const up = await holdingUpstream();
    // Two policies of one slot and one place each; the gateway's cap 1, taken in b's queue.
    const one = { concurrency: { limit: 1, queue: 1, queueTimeout: '20s' } };
    const gw = await startInProcess(oneRoute(up.url, '10s', { server: { maxQueued: 1 }, policies: { a: one, b: one }, routes: [{ path: '/a', policy: 'a' }, { path: '/b', policy: 'b' }] } as Partial<GatewayConfig>));
    const holders = [get(`${gw.url}/a/hold`), get(`${gw.url}/b/hold`)];
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    const upload = await continued(gw.url, '/a/up');
    const waiter = get(`${gw.url}/b/hold-wait`);
    expect(await within(10_000, () => gw.status().queued === 1)).toBe(true);
    const later = await upload.send();
    const ordinary = await keptAliveGet(gw.url, '/a/x');
    // Before expectlater: 'expected [...] not to include "connection: close"' (sameAnswer) — the later one closed.
    sameAnswer(later, ordinary, 'queue_full');
    expect(statuses(later)).toEqual([100, 503]);
    expect(upload.c.closed).toBe(false);
    upload.c.close();
    expect(paced(gw)).toBe(2);
    up.release();
    expect(await within(10_000, () => up.seen.length === 3)).toBe(true);
    up.release();
    expect([...(await Promise.all(holders)).map((r) => r.status), (await waiter).status]).toEqual([200, 200, 200]);
    expect(up.seen.sort()).toEqual(['GET /a/hold 0', 'GET /b/hold 0', 'GET /b/hold-wait 0']);
  }, 30_000);
});
