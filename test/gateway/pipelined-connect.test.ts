// A CONNECT pipelined behind other requests (hostile-8). node:http hands a CONNECT to the
// server's 'connect' event with the socket, out of the request flow: its 405 was written at
// once and the connection ended — the requests before it, already accepted and forwarded, were
// never answered (the 405 overtook them). Now, as for any request refused for what it is
// (client-errors.ts), the 405 follows the responses of the requests before it, in order, and
// then the connection closes. In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const get = (path: string): string => `GET ${path} HTTP/1.1\r\n${H}\r\n`;
const CONNECT = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';

async function gateway(): Promise<{ url: string; seen: string[]; status: () => ReturnType<Awaited<ReturnType<typeof startInProcess>>['status']> }> {
  const seen: string[] = [];
  // Slow enough that the CONNECT is parsed while the first response is still to come.
  const up = await upstream((req, res) => {
    seen.push(req.url ?? '');
    setTimeout(() => res.end(`answer to ${req.url}`), 50);
  });
  const gw = await startInProcess(oneRoute(up.url, '5s'));
  return { url: gw.url, seen, status: () => gw.status() };
}

describe('a CONNECT pipelined behind other requests', () => {
  for (const halfClose of [false, true]) {
    it(`is answered 405 after their responses, in order, then the close${halfClose ? ' (the client half-closed)' : ''}`, async () => {
      const gw = await gateway();
      const { text, open } = await rawConversation(gw.url, get('/a') + get('/b') + CONNECT, 10_000, halfClose);
      expect(open).toBe(false);
      expect(statuses(text)).toEqual([200, 200, 405]);
      expect([...text.matchAll(/answer to (\/\w)/g)].map((m) => m[1])).toEqual(['/a', '/b']);
      expect(text).toMatch(/"reason":"method_not_allowed"[^]*$/);
      expect(gw.seen).toEqual(['/a', '/b']);
      expect(gw.status().badRequests.method_not_allowed).toBe(1);
    });
  }

  it('alone, it is answered at once, and the connection closes', async () => {
    const gw = await gateway();
    const { text, open } = await rawConversation(gw.url, CONNECT, 10_000);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([405]);
    expect(gw.seen).toEqual([]);
  });
});
