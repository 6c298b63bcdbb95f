// An answer the gateway writes before a request's body is read (404 no_route, OPTIONS *) closes
// the connection when the rest of the body is unbounded: kept alive, node:http reads and drops
// the body to reach the next request, with no limit of its own — a POST to no route declaring
// 100 GB was read at the client's pace until requestTimeout (hostile-12). A body declared
// within maxBodySize is still read past, and the connection kept: nothing pipelined is lost.
// A closing answer lingers (responses.ts lingerOnClose), so that an uploading client gets it.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawSocket } from './raw-client.js';

afterEach(cleanup);

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

async function gateway(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxBodySize: '1kb', requestTimeout: '60s' }, routes: [{ path: '/api' }] }));
  return { url: gw.url, seen };
}

/**
 * Write `head`, read its answer, then write 64 kB at a time (at most 64 writes): what came back,
 * and whether the gateway closed the connection. The answer is read before the body is sent: a
 * close while a client still sends may reach it as a reset, which drops what it had not read.
 */
async function flood(url: string, head: string): Promise<{ text: string; closedByGateway: boolean }> {
  const { socket, text, closed } = rawSocket(url);
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  socket.write(head);
  for (let i = 0; i < 500 && statuses(text()).length === 0 && !isClosed; i++) await sleep(10);
  const chunk = Buffer.alloc(64 * 1024, 97);
  for (let i = 0; i < 64 && !isClosed; i++) {
    if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    await sleep(2);
  }
  const closedByGateway = isClosed || (await Promise.race([closed.then(() => true), sleep(2_000).then(() => false)]));
  socket.destroy();
  return { text: text(), closedByGateway };
}

/**
 * Write `head` and 16 MB of its body at once and read nothing for 300 ms, as a client busy
 * uploading (curl) reads its answer late: what came back, and whether the connection closed.
 */
async function upload(url: string, head: string): Promise<{ text: string; closedByGateway: boolean }> {
  const { socket, text, closed } = rawSocket(url);
  socket.pause();
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(16 * 1024 * 1024, 97)]));
  await sleep(300);
  socket.resume();
  const closedByGateway = await Promise.race([closed.then(() => true), sleep(5_000).then(() => false)]);
  socket.destroy();
  return { text: text(), closedByGateway };
}

describe('a closing answer while the client still uploads', () => {
  // hostile-12: closed at once, the client's next bytes drew a reset that wiped the answer out of
  // its receive buffer (curl uploading 50 MB over the limit often got no status).
  it('413 (and a 404 before the body) reaches the client, then the connection closes', async () => {
    const gw = await gateway();
    for (const [target, status] of [['/api/x', 413], ['/nowhere', 404]] as const) {
      for (let i = 0; i < 3; i++) {
        const r = await upload(gw.url, `POST ${target} HTTP/1.1\r\nHost: gw\r\nContent-Length: 100000000000\r\n\r\n`);
        expect(statuses(r.text), `${target} #${i}`).toEqual([status]);
        expect(r.closedByGateway).toBe(true);
      }
    }
    expect(gw.seen).toEqual([]);
  });
});

describe('an answer before the body is read', () => {
  it('404 to a body declared over maxBodySize, or chunked, closes the connection: the body is not read on', async () => {
    const gw = await gateway();
    for (const framing of ['Content-Length: 100000000000', 'Transfer-Encoding: chunked']) {
      const r = await flood(gw.url, `POST /nowhere HTTP/1.1\r\nHost: gw\r\n${framing}\r\n\r\n${framing.startsWith('T') ? 'ffffff\r\n' : ''}`);
      expect(statuses(r.text), framing).toEqual([404]);
      expect(r.text, framing).toMatch(/\r\nconnection: close\r\n/i);
      expect(r.closedByGateway, framing).toBe(true);
    }
    const options = await flood(gw.url, 'OPTIONS * HTTP/1.1\r\nHost: gw\r\nContent-Length: 100000000000\r\n\r\n');
    expect(statuses(options.text)).toEqual([200]);
    expect(options.closedByGateway).toBe(true);
    expect(gw.seen).toEqual([]);
  });

  it('a small declared body is read past: the connection serves the request pipelined behind it', async () => {
    const gw = await gateway();
    const next = 'GET /api/next HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n';
    for (const first of ['POST /nowhere HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello', 'OPTIONS * HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello']) {
      const { text, open } = await rawConversation(gw.url, `${first}${next}`, 10_000);
      expect(open).toBe(false);
      expect(statuses(text)).toEqual([first.startsWith('POST') ? 404 : 200, 200]);
    }
    expect(gw.seen).toEqual(['/api/next', '/api/next']);
  });
});
