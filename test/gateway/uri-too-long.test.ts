// A request target too long is 414 uri_too_long, not 431 headers_too_large (hostile-5): node:http
// counts the target with the headers against maxHeaderSize and reports both as a header
// overflow; the gateway tells them apart on every request of a connection, not only its first,
// and says the limit. Nothing is forwarded. (The one-shot cases are in bad-requests.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawSocket } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

async function gateway(): Promise<{ url: string; seen: string[]; status: () => ReturnType<Awaited<ReturnType<typeof startInProcess>>['status']> }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(`${req.method} ${(req.url ?? '').slice(0, 20)}`);
    res.end('ok');
  });
  const gw = await startInProcess(oneRoute(up.url, '2s', { server: { maxHeaderSize: '16kb' } }));
  return { url: gw.url, seen, status: () => gw.status() };
}

describe('a request target over maxHeaderSize', () => {
  it('is 414 on a kept-alive connection, after a request served on it; the answer states the limit', async () => {
    const gw = await gateway();
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(`GET /x HTTP/1.1\r\n${H}\r\n`);
    for (let i = 0; i < 200 && !text().includes('ok'); i++) await sleep(10);
    socket.write(`GET /${'a'.repeat(60_000)} HTTP/1.1\r\n${H}\r\n`);
    const t = setTimeout(() => socket.destroy(), 5_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([200, 414]);
    const body = text().slice(text().lastIndexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toMatchObject({ status: 414, reason: 'uri_too_long', detail: expect.stringContaining('16384 bytes, server.maxHeaderSize') });
    expect(gw.seen).toEqual(['GET /x']);
    expect(gw.status().badRequests).toMatchObject({ uri_too_long: 1, headers_too_large: 0 });
  });

  it('is 414 pipelined behind a good request in one write, and a long header there is still 431', async () => {
    const gw = await gateway();
    const long = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\nGET /${'a'.repeat(60_000)} HTTP/1.1\r\n${H}\r\n`);
    expect(statuses(long.text)).toEqual([200, 414]);
    const header = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\nGET /y HTTP/1.1\r\n${H}X-Big: ${'a b'.repeat(10_000)}\r\n\r\n`);
    expect(statuses(header.text)).toEqual([200, 431]);
    expect(header.text).toMatch(/"reason":"headers_too_large"/);
    expect(gw.seen).toEqual(['GET /x', 'GET /x']);
  });

  it('is 414 when the target arrives in pieces, each smaller than the limit', async () => {
    const gw = await gateway();
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write('GET /');
    for (let i = 0; i < 5 && !socket.destroyed; i++) {
      socket.write('a'.repeat(5_000));
      await sleep(20);
    }
    socket.write(` HTTP/1.1\r\n${H}\r\n`);
    const t = setTimeout(() => socket.destroy(), 5_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([414]);
    expect(gw.seen).toEqual([]);
  });
});

describe('a request target longer than one socket read', () => {
  async function bigGateway(): Promise<{ url: string; seen: string[] }> {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${(req.url ?? '').slice(0, 20)}`);
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '2s', { server: { maxHeaderSize: '256kb' } }));
    return { url: gw.url, seen };
  }
  const second = async (url: string, head: string): Promise<string> => {
    const { socket, text, closed } = rawSocket(url);
    socket.write(`GET /x HTTP/1.1\r\n${H}\r\n`);
    for (let i = 0; i < 200 && !text().includes('ok'); i++) await sleep(10);
    socket.write(head);
    const t = setTimeout(() => socket.destroy(), 5_000);
    await closed;
    clearTimeout(t);
    return text();
  };

  it('is 414 as the second request of a kept-alive connection; a header as long is 431', async () => {
    const gw = await bigGateway();
    expect(statuses(await second(gw.url, `GET /${'a'.repeat(300_000)} HTTP/1.1\r\n${H}\r\n`))).toEqual([200, 414]);
    expect(statuses(await second(gw.url, `GET /y HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(300_000)}\r\n\r\n`))).toEqual([200, 431]);
    expect(statuses(await second(gw.url, `GET /y HTTP/1.1\r\n${H}X-${'a'.repeat(300_000)}: b\r\n\r\n`))).toEqual([200, 431]);
    expect(gw.seen).toEqual(['GET /x', 'GET /x', 'GET /x']);
  });
});

describe('a second request whose head arrives in pieces, each smaller than the limit', () => {
  const trickled = async (url: string, start: string, piece: string, end: string): Promise<number[]> => {
    const { socket, text, closed } = rawSocket(url);
    socket.write(`GET /x HTTP/1.1\r\n${H}\r\n`);
    for (let i = 0; i < 200 && !text().includes('ok'); i++) await sleep(10);
    socket.write(start);
    for (let i = 0; i < 5 && !socket.destroyed; i++) {
      socket.write(piece);
      await sleep(20);
    }
    if (!socket.destroyed) socket.write(end);
    const t = setTimeout(() => socket.destroy(), 5_000);
    await closed;
    clearTimeout(t);
    return statuses(text());
  };

  it('is 414 for its target and 431 for a header', async () => {
    const gw = await gateway();
    expect(await trickled(gw.url, 'GET /', 'a'.repeat(5_000), ` HTTP/1.1\r\n${H}\r\n`)).toEqual([200, 414]);
    expect(await trickled(gw.url, `GET /y HTTP/1.1\r\n${H}X-Big: `, 'a'.repeat(5_000), '\r\n\r\n')).toEqual([200, 431]);
    expect(gw.seen).toEqual(['GET /x', 'GET /x']);
    expect(gw.status().badRequests).toMatchObject({ uri_too_long: 1, headers_too_large: 1 });
  });
});
