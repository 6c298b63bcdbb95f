// A client that closes its side of the connection (a FIN: shutdown(SHUT_WR), `nc -N`, not a
// reset) while its request waits in the admission queue is still reading, as HAProxy reads it
// (no `option abortonclose`): the request keeps its place and is answered — served when a slot
// frees, or 503 queue_timeout with Retry-After when its wait runs out — then the connection
// closes. Nothing already accepted is lost (hostile-8: since hostile-5 it was dropped with
// nothing written). A reset is a client gone: its request leaves the queue, and is never
// forwarded. In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream, within } from './helpers.js';
import { H, oneSlot, queued, slotTaken } from './one-slot.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);

describe('a queued request whose client closes its side', () => {
  it('keeps its place at the FIN, is forwarded when the slot frees, answered, and then the connection closes', async () => {
    const { up, gw, first } = await slotTaken();
    const halfClosing = rawSocket(gw.url);
    halfClosing.socket.write(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    halfClosing.socket.end();
    await sleep(100);
    expect(queued(gw)).toBe(1);
    up.releaseAll();
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    up.releaseAll();
    await halfClosing.closed;
    expect((await first).status).toBe(200);
    expect(statuses(halfClosing.text())).toEqual(['200']);
    expect(halfClosing.text()).toMatch(/ok$/);
    expect(up.seen).toEqual(['/1', '/2']);
    expect(gw.status().counters).toMatchObject({ leftQueue: 0, admitted: 2 });
  });

  it('a request written with its FIN at once (nc -N) that must wait is queued and answered', async () => {
    const { up, gw, first } = await slotTaken();
    const halfClosing = rawSocket(gw.url);
    halfClosing.socket.end(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    up.releaseAll();
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    up.releaseAll();
    await halfClosing.closed;
    expect((await first).status).toBe(200);
    expect(statuses(halfClosing.text())).toEqual(['200']);
    expect(up.seen).toEqual(['/1', '/2']);
    expect(gw.status().counters.leftQueue).toBe(0);
  });

  it('half-closed, its wait running out: 503 queue_timeout with Retry-After, then the close; never forwarded', async () => {
    const { up, gw, first } = await slotTaken((u) => oneRoute(u, '5s', { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '200ms' } } }] }));
    const halfClosing = rawSocket(gw.url);
    halfClosing.socket.end(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    await halfClosing.closed;
    expect(statuses(halfClosing.text())).toEqual(['503']);
    expect(halfClosing.text()).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(halfClosing.text()).toContain('queue_timeout');
    up.releaseAll();
    expect((await first).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1']);
  });

  it('at a reset it leaves the queue, is counted, and is never forwarded', async () => {
    const { up, gw, first } = await slotTaken();
    const leaving = rawSocket(gw.url);
    leaving.socket.write(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    leaving.socket.resetAndDestroy();
    expect(await within(10_000, () => queued(gw) === 0 && gw.status().queued === 0)).toBe(true);
    expect(gw.status().counters.leftQueue).toBe(1);
    // The next request takes the place, and is the one forwarded when the slot frees.
    const third = get(`${gw.url}/3`);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    up.releaseAll();
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    up.releaseAll();
    expect((await first).status).toBe(200);
    expect((await third).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1', '/3']);
  });

  it('a request whose body is held back (Expect: 100-continue) is told 400 incomplete_request at the FIN, and not forwarded', async () => {
    const { up, gw, first } = await slotTaken();
    const leaving = rawSocket(gw.url);
    leaving.socket.write(`POST /2 HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    // Told to continue without waiting for the slot, which it asks for once its body is in (early429;
    // until then it waited in the queue for the slot before the 100).
    expect(await within(10_000, () => leaving.text().includes('100 Continue'))).toBe(true);
    expect(queued(gw)).toBe(0);
    leaving.socket.end();
    await leaving.closed;
    expect(leaving.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 [\s\S]*"reason":"incomplete_request"/);
    expect(queued(gw)).toBe(0);
    up.releaseAll();
    expect((await first).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1']);
  });

  it('a request admitted at once is still answered after the FIN (a half-closing client reads on)', async () => {
    const up = await upstream((_req, res) => setTimeout(() => res.end('answer'), 50));
    const gw = await startInProcess(oneSlot(up.url));
    const client = rawSocket(gw.url);
    client.socket.end(`GET /1 HTTP/1.1\r\n${H}\r\n`);
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 200 [\s\S]*answer$/);
    expect(gw.status().counters.leftQueue).toBe(0);
  });
});
