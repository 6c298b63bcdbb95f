// expectlater: while the slot a request asks for once its body is in (expect-continue.ts withBody)
// waits in its gate's queue, its client may reset, or pipeline more requests behind it. A reset
// takes it out of the queue at once — the gate's queue and the gateway's count of waiting requests
// (server.maxQueued) both — counts it once, as a request that left the queue
// (counters.leftQueue, as the first ask's does; never clientGone too), and it never reaches the
// upstream. A request pipelined behind it is not served before it: it is served after it, in
// order, whether the upload is served or refused. Every wait is on a state seen, bounded.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { ExpectClient, head } from './expect-client.js';
import { cleanup, get, oneRoute, sleep, startInProcess, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { firstResponse, recordingUpstream, statuses } from './upload-client.js';

afterEach(cleanup);

/** An upstream that holds `/hold` until `release()`; anything else is answered once its body is in. */
async function holdingUpstream(): Promise<{ seen: string[]; url: string; release: () => void }> {
  const held: ServerResponse[] = [];
  const up = await recordingUpstream((res) => (res.req.url === '/hold' ? held.push(res) : res.end('ok')));
  return { ...up, release: () => held.splice(0).forEach((r) => r.end('held')) };
}

/**
 * One slot, held by `/hold`; `/free` has no policy (a request there needs no slot: only its turn on
 * its connection holds it back). Pacing off (`pauseRefused: 0s`): no refusal closes a pipelining connection for it.
 */
async function slotHeld(queueTimeout = '20s'): Promise<{ up: Awaited<ReturnType<typeof holdingUpstream>>; gw: Gateway; holder: ReturnType<typeof get> }> {
  const up = await holdingUpstream();
  const config = oneRoute(up.url, '10s', { server: { pauseRefused: '0s' }, routes: [{ path: '/free' }, { path: '/', policy: { concurrency: { limit: 1, queue: 4, queueTimeout } } }] } as Partial<GatewayConfig>);
  const gw = await startInProcess(config);
  const holder = get(`${gw.url}/hold`);
  expect(await within(10_000, () => up.seen.length === 1)).toBe(true);
  return { up, gw, holder };
}

const gate = (gw: Gateway): { queued: number; inFlight?: number } => gw.status().policies[0]!.gates[0]!;

/** Once its ask waits, `reset` its client: out of the queue at once, counted once as leftQueue, never forwarded. */
async function resetWhileWaiting(up: Awaited<ReturnType<typeof holdingUpstream>>, gw: Gateway, holder: ReturnType<typeof get>, reset: () => void): Promise<void> {
  expect(await within(10_000, () => gate(gw).queued === 1 && gw.status().queued === 1)).toBe(true);
  reset();
  expect(await within(10_000, () => gate(gw).queued === 0 && gw.status().queued === 0)).toBe(true);
  // Before expectlater: 'expected false to be true' — it left the queue uncounted (leftQueue 0).
  expect(await within(10_000, () => gw.status().counters.leftQueue === 1)).toBe(true);
  up.release();
  expect((await holder).status).toBe(200);
  await sleep(100);
  expect(gw.status().counters).toMatchObject({ leftQueue: 1, clientGone: 0, admitted: 1, rejected: 0 });
  expect(gate(gw).inFlight).toBe(0);
  expect(up.seen).toEqual(['GET /hold 0']);
}

describe('a client whose slot, asked for once its body is in, waits', () => {
  it('Expect: 100-continue, reset while it waits: out of the queue at once, counted once as leftQueue, never forwarded', async () => {
    const { up, gw, holder } = await slotHeld();
    const c = new ExpectClient(gw.url);
    c.write(head('Content-Length: 5\r\n'));
    await c.until((t) => t.includes('100 Continue'));
    c.write('hello');
    await resetWhileWaiting(up, gw, holder, () => c.reset());
  }, 30_000);

  it('a body that came after its head, reset while it waits: the same', async () => {
    const { up, gw, holder } = await slotHeld();
    const { socket } = rawSocket(gw.url);
    socket.write('POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n');
    expect(await within(10_000, () => gw.status().counters.requests === 2)).toBe(true);
    await sleep(50);
    socket.write('hello');
    await resetWhileWaiting(up, gw, holder, () => socket.resetAndDestroy());
  }, 30_000);

  it('a request pipelined behind it (one that needs no slot) is served after it, in order', async () => {
    const { up, gw, holder } = await slotHeld();
    const { socket, text } = rawSocket(gw.url);
    socket.write('POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n');
    expect(await within(10_000, () => gw.status().counters.requests === 2)).toBe(true);
    await sleep(50);
    socket.write('helloGET /free/next HTTP/1.1\r\nHost: gw\r\n\r\n');
    expect(await within(10_000, () => gate(gw).queued === 1)).toBe(true);
    await sleep(100);
    expect(up.seen).toEqual(['GET /hold 0']);
    expect(statuses(text())).toEqual([]);
    up.release();
    expect((await holder).status).toBe(200);
    expect(await within(10_000, () => statuses(text()).length === 2)).toBe(true);
    expect(statuses(text())).toEqual([200, 200]);
    expect(up.seen).toEqual(['GET /hold 0', 'POST /up 5', 'GET /free/next 0']);
    socket.destroy();
  }, 30_000);

  it('a request pipelined behind it is answered after its refusal, in order, on the connection kept alive', async () => {
    const { up, gw, holder } = await slotHeld('300ms');
    const { socket, text } = rawSocket(gw.url);
    socket.write('POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n');
    expect(await within(10_000, () => gw.status().counters.requests === 2)).toBe(true);
    await sleep(50);
    socket.write('helloGET /free/next HTTP/1.1\r\nHost: gw\r\n\r\n');
    // The upload's wait times out: refused, its body read — the connection goes on to the next request.
    expect(await within(10_000, () => statuses(text()).length >= 1)).toBe(true);
    expect(JSON.parse(firstResponse(text()).body)).toMatchObject({ reason: 'queue_timeout' });
    expect(firstResponse(text()).head).not.toMatch(/\r\nconnection: close/i);
    expect(await within(10_000, () => statuses(text()).length === 2)).toBe(true);
    expect(statuses(text())).toEqual([503, 200]);
    expect(up.seen).toEqual(['GET /hold 0', 'GET /free/next 0']);
    up.release();
    expect((await holder).status).toBe(200);
    socket.destroy();
  }, 30_000);
});
