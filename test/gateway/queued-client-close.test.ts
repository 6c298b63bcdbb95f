// A client that closes its side of the connection (a FIN: shutdown(SHUT_WR), not a reset) while
// its request waits in the admission queue has given up on it, as nginx reads a client's close
// (proxy_ignore_client_abort off): the request leaves the queue at once and is never forwarded
// when a slot frees (hostile-5: it was, to an upstream whose answer nobody would read). A request
// already admitted is still answered after a FIN (half-close.test.ts). In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, startInProcess, upstream, within } from './helpers.js';
import { H, heldUpstream, oneSlot, queued } from './one-slot.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);


describe('a queued request whose client closes its side', () => {
  it('leaves the queue at the FIN, is counted, and is never forwarded; the connection is closed with nothing written', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(oneSlot(up.url));
    const first = get(`${gw.url}/1`);
    expect(await within(3000, () => up.seen.length === 1)).toBe(true);
    const leaving = rawSocket(gw.url);
    leaving.socket.write(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    expect(await within(3000, () => queued(gw) === 1)).toBe(true);
    leaving.socket.end();
    expect(await within(3000, () => queued(gw) === 0 && gw.status().queued === 0)).toBe(true);
    await leaving.closed;
    expect(leaving.text()).toBe('');
    expect(gw.status().counters.leftQueue).toBe(1);
    // The next request takes the place, and is the one forwarded when the slot frees.
    const third = get(`${gw.url}/3`);
    expect(await within(3000, () => queued(gw) === 1)).toBe(true);
    up.releaseAll();
    expect(await within(3000, () => up.seen.length === 2)).toBe(true);
    up.releaseAll();
    expect((await first).status).toBe(200);
    expect((await third).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1', '/3']);
  });

  it('a request written with its FIN at once (nc -N) that must wait is not queued, nor forwarded', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(oneSlot(up.url));
    const first = get(`${gw.url}/1`);
    expect(await within(3000, () => up.seen.length === 1)).toBe(true);
    const leaving = rawSocket(gw.url);
    leaving.socket.end(`GET /2 HTTP/1.1\r\n${H}\r\n`);
    await leaving.closed;
    expect(leaving.text()).toBe('');
    expect(await within(3000, () => gw.status().counters.leftQueue === 1)).toBe(true);
    expect(queued(gw)).toBe(0);
    up.releaseAll();
    expect((await first).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1']);
  });

  it('a request waiting for admission before its body (Expect: 100-continue) is told 400 incomplete_request at the FIN, and not forwarded', async () => {
    const up = await heldUpstream();
    const gw = await startInProcess(oneSlot(up.url));
    const first = get(`${gw.url}/1`);
    expect(await within(3000, () => up.seen.length === 1)).toBe(true);
    const leaving = rawSocket(gw.url);
    leaving.socket.write(`POST /2 HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    expect(await within(3000, () => queued(gw) === 1)).toBe(true);
    leaving.socket.end();
    await leaving.closed;
    expect(leaving.text()).toMatch(/^HTTP\/1\.1 400 [\s\S]*"reason":"incomplete_request"/);
    expect(await within(3000, () => queued(gw) === 0)).toBe(true);
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
