// /healthz and /readyz answer whatever holds the admin listener's other connections. Its cap
// (24 connections, hostile-11) closed a connection over it at accept: 24 idle keep-alive
// scrapers, 24 heads sent halfway or 24 dashboard streams, and the orchestrator's probe was
// reset — a healthy gateway restarted. Now a new connection replaces the oldest one with no
// request in progress, and other requests may hold at most 20 of the 24 (admin-connections.ts).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, onCleanup, oneRoute, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

/**
 * `n` connections to `url`, each writing `bytes` once connected; resolved once every one
 * connected, or with `answered`, once each got its first bytes back or was closed.
 */
async function hold(url: string, n: number, bytes: string, answered: boolean): Promise<{ sockets: Socket[]; replies: string[] }> {
  const u = new URL(url);
  const sockets: Socket[] = [];
  const replies: string[] = [];
  onCleanup(async () => sockets.forEach((s) => s.destroy()));
  // One after another: the server accepts them in this order (the oldest is replaced first).
  for (let i = 0; i < n; i++) {
    const s = connect(Number(u.port), u.hostname);
    s.on('error', () => undefined);
    sockets.push(s);
    await new Promise<void>((resolve) => {
      s.once('connect', () => {
        s.write(bytes);
        if (!answered) resolve();
      });
      s.once('data', (d: Buffer) => {
        replies.push(d.toString('latin1').split('\r\n')[0]!);
        resolve();
      });
      s.once('close', () => resolve());
    });
  }
  return { sockets, replies };
}

async function probes(adminUrl: string): Promise<number[]> {
  const out: number[] = [];
  for (const path of ['/healthz', '/readyz', '/healthz']) out.push((await get(`${adminUrl}${path}`)).status);
  return out;
}

async function admin(): Promise<string> {
  const up = await upstream((_req, res) => res.end('ok'));
  return (await startInProcess(oneRoute(up.url, '5s'))).adminUrl;
}

describe('admin listener: the probes are always answered', () => {
  it('24 idle keep-alive connections (scrapers between scrapes): /healthz and /readyz answer', async () => {
    const url = await admin();
    const held = await hold(url, 24, 'GET /status HTTP/1.1\r\nHost: a\r\n\r\n', true);
    expect(held.replies.every((r) => r === 'HTTP/1.1 200 OK')).toBe(true);
    expect(await probes(url)).toEqual([200, 200, 200]);
    // The oldest idle ones made room; /status is served again too.
    expect((await get(`${url}/status`)).status).toBe(200);
  });

  it('40 heads sent halfway: the probes answer', async () => {
    const url = await admin();
    await hold(url, 40, 'GET /status HTTP/1.1\r\nHost: a\r\n', false);
    expect(await probes(url)).toEqual([200, 200, 200]);
  });

  it('24 dashboard streams: 8 are served, the others are 503 (Retry-After), and the probes, /status and /metrics answer', async () => {
    const url = await admin();
    const held = await hold(url, 24, 'GET /dashboard/events HTTP/1.1\r\nHost: a\r\n\r\n', true);
    expect(held.replies.filter((r) => r === 'HTTP/1.1 200 OK').length).toBe(8);
    expect(held.replies.filter((r) => r === 'HTTP/1.1 503 Service Unavailable').length).toBe(16);
    expect(await probes(url)).toEqual([200, 200, 200]);
    // Before: 20 pages were served and took every slot: /status and /metrics were 503 'admin listener busy'.
    expect((await get(`${url}/status`)).status).toBe(200);
    expect((await get(`${url}/metrics`)).status).toBe(200);
  });

  it('still at most 24 connections: of 60 heads sent halfway, the server closes 36', async () => {
    const url = await admin();
    const held = await hold(url, 60, 'GET /status HTTP/1.1\r\nHost: a\r\n', false);
    const closed = (): number => held.sockets.filter((s) => s.closed || s.destroyed || s.readableEnded).length;
    await within(10_000, () => closed() >= 36, 20);
    expect(closed()).toBe(36);
    expect(held.sockets.slice(36).every((s) => !s.readableEnded && !s.closed)).toBe(true);
  });
});
