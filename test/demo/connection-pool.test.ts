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

describe('ConnectionPool.open', () => {
  /** A server that counts connections and requests. */
  async function counting(): Promise<{ url: string; connections: () => number; requests: () => number; close: () => void }> {
    let connections = 0;
    let requests = 0;
    const s = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Length': '2' }).end('ok');
    });
    s.on('connection', () => connections++);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
      connections: () => connections,
      requests: () => requests,
      close: () => {
        s.closeAllConnections();
        s.close();
      },
    };
  }

  /** Poll `cond` every 5 ms; fails after 3 s. */
  async function until(cond: () => boolean): Promise<void> {
    const end = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met within 3 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** `p`, or a failure after `ms`: a pool that never settles fails the test rather than hangs it. */
  const bounded = <T>(p: Promise<T>, ms = 3000): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref())]);

  it('opens n connections before any request: the server sees n connections and no request', async () => {
    const server = await counting();
    const pool = new ConnectionPool(server.url, 16);
    try {
      await bounded(pool.open(4));
      expect(pool.created).toBe(4);
      await until(() => server.connections() >= 4);
      await new Promise((r) => setTimeout(r, 20));
      expect(server.connections()).toBe(4);
      expect(server.requests()).toBe(0);
    } finally {
      pool.destroy();
      server.close();
    }
  });

  it('the connections are ready when open() resolves: requests sent at once use them, none is opened', async () => {
    const server = await counting();
    const pool = new ConnectionPool(server.url, 16);
    try {
      await bounded(pool.open(5));
      const outcomes = await bounded(Promise.all(Array.from({ length: 5 }, () => send(pool))));
      expect(pool.created).toBe(5);
      expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ status: 200, retryAfter: false })));
      expect(server.connections()).toBe(5);
      expect(server.requests()).toBe(5);
    } finally {
      pool.destroy();
      server.close();
    }
  });

  it('opens no more than maxSockets', async () => {
    const server = await counting();
    const pool = new ConnectionPool(server.url, 3);
    try {
      await bounded(pool.open(10));
      expect(pool.created).toBe(3);
      await until(() => server.connections() >= 3);
      await new Promise((r) => setTimeout(r, 20));
      expect(server.connections()).toBe(3);
      await bounded(pool.open(2)); // already at maxSockets
      expect(pool.created).toBe(3);
    } finally {
      pool.destroy();
      server.close();
    }
  });

  it('resolves when the connections fail (nothing listens) rather than hang; a request after it reports the error', async () => {
    const dead = new ConnectionPool('http://127.0.0.1:1/', 4);
    await bounded(dead.open(3)); // refused: resolves rather than hangs
    expect(dead.created).toBe(3);
    expect('error' in (await send(dead))).toBe(true);
    dead.destroy();
  });
});
