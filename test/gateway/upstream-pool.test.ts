// UpstreamPool (src/gateway/upstream-pool.ts) on its own, against a real upstream: a freed
// connection is taken again before a new one is opened, requests beyond `connections` wait
// and go in order, close() serves what waits before closing, destroy() fails it.
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamPool } from '../../src/gateway/upstream-pool.js';
import { cleanup, onCleanup, upstream } from './helpers.js';

afterEach(cleanup);

interface Result {
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

/** One GET `path` through `pool`; settles with its status and body, or its error. */
function send(pool: UpstreamPool, path: string): Promise<Result> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    const handler: Dispatcher.DispatchHandler = {
      onConnect: () => undefined,
      onHeaders: (s) => ((status = s), true),
      onData: (chunk) => ((body += chunk.toString()), true),
      onComplete: () => resolve({ status, body }),
      onError: (err) => resolve({ error: err.message }),
    };
    pool.dispatch({ method: 'GET', path }, handler);
  });
}

async function countingUpstream(): Promise<{ url: string; opened: () => number; order: string[] }> {
  let opened = 0;
  const order: string[] = [];
  const up = await upstream((req, res) => {
    order.push(req.url ?? '');
    setTimeout(() => res.end(req.url), 20);
  });
  up.server.on('connection', () => opened++);
  return { url: up.url, opened: () => opened, order };
}

function pool(url: string, connections: number): UpstreamPool {
  const p = new UpstreamPool(url, { connections, headersTimeout: 10_000, bodyTimeout: 10_000 });
  onCleanup(() => p.destroy());
  return p;
}

describe('UpstreamPool', () => {
  it('one request after another takes the same connection', async () => {
    const up = await countingUpstream();
    const p = pool(up.url, 8);
    for (let i = 0; i < 5; i++) expect(await send(p, `/${i}`)).toEqual({ status: 200, body: `/${i}` });
    expect(up.opened()).toBe(1);
    expect(p.stats).toEqual({ connected: 1, free: 1, pending: 0, running: 0 });
  });

  it('beyond its connections requests wait, and are sent in the order they came', async () => {
    const up = await countingUpstream();
    const p = pool(up.url, 2);
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => send(p, `/${i}`)));
    expect(p.waiting).toBe(4);
    expect((await all).map((r) => r.body)).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
    expect(up.order).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
    expect(up.opened()).toBe(2);
  });

  it('close() serves the requests waiting and running, then refuses new ones', async () => {
    const up = await countingUpstream();
    const p = pool(up.url, 1);
    const all = Promise.all([send(p, '/a'), send(p, '/b'), send(p, '/c')]);
    await p.close();
    expect((await all).map((r) => r.body)).toEqual(['/a', '/b', '/c']);
    expect(await send(p, '/d')).toEqual({ error: 'the upstream pool is closed' });
  });

  it('destroy() fails the requests waiting', async () => {
    const up = await countingUpstream();
    const p = pool(up.url, 1);
    const first = send(p, '/a');
    const second = send(p, '/b');
    await p.destroy();
    expect(await second).toEqual({ error: 'the upstream pool is closed' });
    expect((await first).error).toBeDefined();
  });

  it('close() with requests waiting settles when destroy() comes first (a retired pool on reload: close, then destroy after the timeout)', async () => {
    const up = await countingUpstream();
    const p = pool(up.url, 1);
    const first = send(p, '/a');
    const second = send(p, '/b');
    let closed = 'pending';
    const closing = p.close().then(
      () => (closed = 'resolved'),
      () => (closed = 'rejected'),
    );
    await p.destroy();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
    expect(closed).toBe('resolved');
    expect(await second).toEqual({ error: 'the upstream pool is closed' });
    expect((await first).error).toBeDefined();
  });
});
