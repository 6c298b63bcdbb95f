// A client that pipelines requests and then resets its connection while the first of them
// waits for admission (hostile-6): the pipelined ones behind it had stopped the gateway
// reading the connection (pipeline-limit.ts), so the reset went unseen, the request stayed in
// the queue and was forwarded when a slot freed, to nobody. Now a connection whose request
// waits for admission is read while few are parsed behind it: the reset is seen, the request
// leaves the queue (as a lone request does: queued-client-close.test.ts), and nothing of the
// connection is forwarded. A FIN instead is a client still reading (hostile-8): every request
// in before it is answered, in order, then the connection closes. In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, within } from './helpers.js';
import { H, queued, slotTaken } from './one-slot.js';
import { rawConversation, rawSocket } from './raw-client.js';

afterEach(cleanup);

/** Free the slot for each request in turn (`n` reach the upstream after the first), then once more. */
async function releaseInTurn(up: { releaseAll(): void; seen: readonly string[] }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    up.releaseAll();
    await within(10_000, () => up.seen.length === i + 2);
  }
  up.releaseAll();
}
const pipelined = `GET /2 HTTP/1.1\r\n${H}\r\nGET /3 HTTP/1.1\r\n${H}\r\nGET /4 HTTP/1.1\r\n${H}\r\n`;

describe('pipelined requests whose client goes while the first waits for admission', () => {
  it('at a reset: the waiting one leaves the queue, and none of them is forwarded', async () => {
    const { up, gw, first } = await slotTaken();
    const leaving = rawSocket(gw.url);
    leaving.socket.write(pipelined);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    leaving.socket.resetAndDestroy();
    expect(await within(10_000, () => queued(gw) === 0 && gw.status().queued === 0)).toBe(true);
    await leaving.closed;
    expect(gw.status().counters.leftQueue).toBe(1);
    up.releaseAll();
    expect((await first).status).toBe(200);
    // The slot is free for the next client, and its request is the one forwarded.
    const next = get(`${gw.url}/5`);
    expect(await within(10_000, () => up.seen.length === 2)).toBe(true);
    up.releaseAll();
    expect((await next).status).toBe(200);
    await sleep(50);
    expect(up.seen).toEqual(['/1', '/5']);
  });

  it('at a FIN: every one of them is answered in turn, in order, then the connection closes', async () => {
    const { up, gw, first } = await slotTaken();
    const halfClosing = rawConversation(gw.url, pipelined, 10_000, true);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    await releaseInTurn(up, 3);
    expect((await first).status).toBe(200);
    const { text, open } = await halfClosing;
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '200', '200']);
    expect(up.seen).toEqual(['/1', '/2', '/3', '/4']);
    expect(gw.status().counters.leftQueue).toBe(0);
  });

  it('a client that stays gets every answer, in order, when the slot frees', async () => {
    const { up, gw, first } = await slotTaken();
    const staying = rawConversation(gw.url, `${pipelined}GET /5 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 10_000);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    await releaseInTurn(up, 4);
    expect((await first).status).toBe(200);
    const { text, open } = await staying;
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '200', '200', '200']);
    expect(up.seen).toEqual(['/1', '/2', '/3', '/4', '/5']);
  });

  it('a body pipelined behind the queued request, larger than a read, reaches the upstream whole at its turn', async () => {
    const { up, gw, first } = await slotTaken();
    const body = 'b'.repeat(200_000);
    const staying = rawConversation(gw.url, `GET /2 HTTP/1.1\r\n${H}\r\nPOST /3 HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}GET /4 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 10_000);
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    await releaseInTurn(up, 3);
    expect((await first).status).toBe(200);
    const { text, open } = await staying;
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '200', '200']);
    expect(up.seen).toEqual(['/1', '/2', '/3 200000', '/4']);
  });
});
