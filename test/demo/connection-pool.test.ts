/** The load generator's HTTP/1.1 client against node:http: body framings, Retry-After, reuse, abandon. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionPool } from '../../src/demo/connection-pool.js';
import type { Outcome } from '../../src/demo/connection-pool.js';

const server = createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/chunked') {
    res.write('a'.repeat(5000));
    setTimeout(() => res.end('b'.repeat(70)), 5);
  } else if (path === '/refused') {
    res.writeHead(503, { 'Retry-After': '1', 'Content-Length': '2' }).end('no');
  } else if (path === '/empty') {
    res.writeHead(204).end();
  } else if (path === '/close') {
    res.writeHead(200, { Connection: 'close', 'Content-Length': '2' }).end('ok');
  } else if (path === '/slow') {
    setTimeout(() => res.writeHead(200, { 'Content-Length': '2' }).end('ok'), 500);
  } else {
    res.writeHead(200, { 'Content-Length': '11' }).end('hello world');
  }
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const send = (pool: ConnectionPool): Promise<Outcome> => new Promise((resolve) => pool.send(resolve));

describe('ConnectionPool', () => {
  it('reads content-length, chunked and empty bodies, and reuses one connection for sequential requests', async () => {
    for (const [path, status] of [['/', 200], ['/chunked', 200], ['/empty', 204], ['/', 200]] as const) {
      const pool = new ConnectionPool(base + path, 4);
      expect(await send(pool)).toEqual({ status, retryAfter: false });
      expect(await send(pool)).toEqual({ status, retryAfter: false });
      expect(pool.created).toBe(1);
      pool.destroy();
    }
  });

  it('sees Retry-After and honours Connection: close', async () => {
    const refused = new ConnectionPool(`${base}/refused`, 4);
    expect(await send(refused)).toEqual({ status: 503, retryAfter: true });
    refused.destroy();
    const closing = new ConnectionPool(`${base}/close`, 4);
    expect(await send(closing)).toEqual({ status: 200, retryAfter: false });
    expect(await send(closing)).toEqual({ status: 200, retryAfter: false });
    expect(closing.created).toBe(2);
    closing.destroy();
  });

  it('caps connections at maxSockets and queues the rest; an abandoned request frees its connection', async () => {
    const pool = new ConnectionPool(`${base}/slow`, 2);
    const outcomes: Outcome[] = [];
    const abandon = pool.send((o) => outcomes.push(o));
    const others = [send(pool), send(pool)];
    abandon();
    expect(await Promise.all(others)).toEqual([{ status: 200, retryAfter: false }, { status: 200, retryAfter: false }]);
    expect(outcomes).toEqual([]);
    expect(pool.created).toBe(3);
    pool.destroy();
  });

  it('reports a refused connection as an error', async () => {
    const pool = new ConnectionPool('http://127.0.0.1:1/', 1);
    const o = await send(pool);
    expect('error' in o).toBe(true);
    pool.destroy();
  });
});
