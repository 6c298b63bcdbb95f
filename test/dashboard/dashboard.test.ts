// sluice/dashboard as a handler on a user's own server: the stream, its bounds, its options.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { KeyedRateLimiter } from '../../src/rate/keyed.js';
import { cleanup, get, onCleanup, sleep } from '../gateway/helpers.js';
import { serveDashboard } from './helpers.js';

afterEach(cleanup);

const serve = serveDashboard;

/** Open the event stream, read its first frame, then go away. */
function connectAndLeave(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/dashboard/events`, (res) => {
      res.setEncoding('utf8').once('data', (d: string) => {
        req.destroy();
        resolve(d);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sluice/dashboard', () => {
  it('serves the page, uPlot from the installed package, a snapshot, and leaves other paths to the application', async () => {
    const gate = new ConcurrencyGate({ name: 'jobs', limit: 3 });
    const url = await serve(createDashboard({ groups: [{ name: 'jobs', gates: [gate] }], intervalMs: 100 }));
    const page = await get(`${url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('/dashboard/uplot.js');
    expect(page.body).not.toMatch(/https?:\/\//); // nothing from a CDN
    const js = await get(`${url}/dashboard/uplot.js`);
    expect(js.status).toBe(200);
    expect(js.body).toContain('uPlot');
    (await gate.acquire()).release();
    await gate.acquire();
    await sleep(250);
    const snap = JSON.parse((await get(`${url}/dashboard/snapshot`)).body) as { groups: { name: string; admitted: number; inFlight: number; limit: number }[] };
    expect(snap.groups[0]).toMatchObject({ name: 'jobs', admitted: 2, inFlight: 1, limit: 3 });
    expect((await get(`${url}/other`)).status).toBe(418);
    expect((await get(`${url}/dashboard/nope`)).status).toBe(404);
    expect((await get(`${url}/dashboard`, { method: 'POST' })).status).toBe(405);
  });

  it('streams a sample at least every second, with the history first', async () => {
    const gate = new ConcurrencyGate({ name: 'g', limit: 1 });
    const d = createDashboard({ groups: [{ name: 'g', gates: [gate] }], intervalMs: 200 });
    const url = await serve(d);
    await sleep(500);
    const frames: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}/dashboard/events`, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8').on('data', (chunk: string) => {
          frames.push(...chunk.split('\n\n').filter((f) => f.trim() !== ''));
          if (frames.length >= 4) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(frames[0]).toMatch(/^retry: 2000\nevent: history\ndata: \[/);
    expect(JSON.parse(frames[1]!.replace(/^data: /, ''))).toMatchObject({ groups: [{ name: 'g', admitted: 0 }] });
  });

  it('1,000 pages connecting and leaving leave no subscriber behind', { timeout: 120_000 }, async () => {
    const d = createDashboard({ groups: [{ name: 'g', gates: [new ConcurrencyGate({ name: 'g', limit: 1 })] }], intervalMs: 100, maxSubscribers: 10_000 });
    const url = await serve(d);
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 100 }, () => connectAndLeave(url)));
    for (let i = 0; i < 100 && d.subscribers > 0; i++) await sleep(50);
    expect(d.subscribers).toBe(0);
  });

  it('HEAD /events is answered with the stream\'s head and ends, subscribing nothing; a request behind it on the connection is answered (hostile-19: no answer at all)', async () => {
    const d = createDashboard({ groups: [], maxSubscribers: 1 });
    const url = await serve(d);
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    onCleanup(async () => void socket.destroy());
    let text = '';
    socket.setEncoding('latin1').on('data', (c: string) => (text += c));
    socket.write('HEAD /dashboard/events HTTP/1.1\r\nHost: x\r\n\r\nGET /dashboard/snapshot HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 150 && !text.includes('"groups"'); i++) await sleep(20);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream/i);
    expect(text).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*"groups"/);
    expect(d.subscribers).toBe(0);
  });

  it('more pages than maxSubscribers are answered 503; close() ends every stream', async () => {
    const d = createDashboard({ groups: [], maxSubscribers: 1 });
    const url = await serve(d);
    await new Promise<void>((resolve) => {
      const req = request(`${url}/dashboard/events`, (res) => {
        res.once('data', () => resolve());
        res.on('end', () => undefined);
      });
      req.end();
    });
    expect((await get(`${url}/dashboard/events`)).status).toBe(503);
    expect(d.subscribers).toBe(1);
    d.close();
    expect(d.subscribers).toBe(0);
  });

  it('a page that never reads is dropped after a bound and counted; a page that reads goes on; a page over the cap is counted refused', { timeout: 60_000 }, async () => {
    // Frames of ~400 KB every 100 ms fill the loopback socket's buffers in seconds.
    const big = 'x'.repeat(400_000);
    const d = createDashboard({ groups: [{ name: 'g', gates: [new ConcurrencyGate({ name: 'g', limit: 1 })], info: () => ({ big }) }], intervalMs: 100, maxSubscribers: 2 });
    const url = await serve(d);
    const { port } = new URL(url);
    const stuck = connect(Number(port), '127.0.0.1');
    onCleanup(async () => void stuck.destroy());
    stuck.write('GET /dashboard/events HTTP/1.1\r\nHost: x\r\n\r\n');
    stuck.pause(); // never reads: the kernel's buffers fill, then the server's
    let read = 0;
    const reader = request(`${url}/dashboard/events`, (res) => res.on('data', (c: Buffer) => (read += c.length)));
    reader.end();
    onCleanup(async () => void reader.destroy());
    for (let i = 0; i < 50 && d.subscribers < 2; i++) await sleep(20);
    expect(d.subscribers).toBe(2);
    expect((await get(`${url}/dashboard/events`)).status).toBe(503);
    expect(d.pages).toEqual({ open: 2, dropped: 0, refused: 1 });
    let closed = false;
    stuck.on('close', () => (closed = true));
    for (let i = 0; i < 1500 && d.pages.dropped === 0; i++) await sleep(20);
    expect(d.pages).toEqual({ open: 1, dropped: 1, refused: 1 });
    stuck.resume(); // what the kernel holds is read, then the end: the server closed it
    for (let i = 0; i < 500 && !closed; i++) await sleep(20);
    expect(closed).toBe(true);
    const before = read;
    for (let i = 0; i < 100 && read === before; i++) await sleep(20);
    expect(read).toBeGreaterThan(before); // the page that reads is still fed
  });

  it('counts from its creation, not from its first sample: what was answered before that is in the first sample', async () => {
    const rate = new KeyedRateLimiter({ name: 'early-rate', policy: { algorithm: 'gcra', rate: 1, burst: 1 } });
    const d = createDashboard({ groups: [{ name: 'api', gates: [rate] }], tenantKeys: 'raw', intervalMs: 1000 });
    for (const key of ['key:a', 'key:a', 'key:a', 'key:b']) void rate.admit({ key }); // a: 1 admitted, 2 refused; b: admitted
    await sleep(2); // the clock moves on from the dashboard's start
    const g = d.snapshot().groups[0]!;
    expect([g.admitted, g.refused]).toEqual([2, { rate_limited: 2 }]);
    // Before: no tenant (the listeners came with the first sample) and rates of 0 (no sample before it).
    expect(g.topTenants).toEqual([['key:a', 2]]);
    expect(g.admittedPerSec).toBeGreaterThan(0);
    expect(g.refusedPerSec['rate_limited']).toBeGreaterThan(0);
    d.close();
  });

  it('a flood of tenants keeps the tenant counts bounded, and the heavy tenant on top', async () => {
    const rate = new KeyedRateLimiter({ name: 'api-rate', policy: { algorithm: 'gcra', rate: 1, burst: 1 } });
    const d = createDashboard({ groups: [{ name: 'api', gates: [rate] }], maxTenants: 100, intervalMs: 1000 });
    for (let i = 0; i < 20_000; i++) {
      void rate.admit({ key: `flood-${i}` });
      void rate.admit({ key: `flood-${i}` }); // refused: each flooding tenant once
      if (i % 10 === 0) void rate.admit({ key: 'heavy' });
    }
    expect(d.trackedTenants).toBeLessThanOrEqual(100);
    // Shown hashed (a key may be a secret): '#' and 12 hex digits of its SHA-256, computed here.
    expect(d.snapshot().groups[0]!.topTenants[0]).toEqual([`#${createHash('sha256').update('heavy').digest('hex').slice(0, 12)}`, expect.any(Number)]);
    expect(JSON.stringify(d.snapshot())).not.toMatch(/heavy|flood-/);
    d.close();
  });

  it("tenantKeys: 'raw' shows the keys; an address is shown as it is either way; a bad value is named", async () => {
    const rate = new KeyedRateLimiter({ name: 'raw-rate', policy: { algorithm: 'gcra', rate: 1, burst: 1 } });
    const raw = createDashboard({ groups: [{ name: 'api', gates: [rate] }], tenantKeys: 'raw', intervalMs: 1000 });
    const hashed = createDashboard({ groups: [{ name: 'api', gates: [rate] }], intervalMs: 1000 });
    for (const key of ['key:sk_1', 'key:sk_1', 'ip:10.0.0.7', 'ip:10.0.0.7']) void rate.admit({ key });
    expect(raw.snapshot().groups[0]!.topTenants).toEqual([['ip:10.0.0.7', 1], ['key:sk_1', 1]]);
    const h = `key:#${createHash('sha256').update('key:sk_1').digest('hex').slice(0, 12)}`;
    expect(hashed.snapshot().groups[0]!.topTenants).toEqual([['ip:10.0.0.7', 1], [h, 1]]);
    raw.close();
    hashed.close();
    expect(() => createDashboard({ groups: [], tenantKeys: 'plain' as never })).toThrow(/tenantKeys/);
  });

  it('names the option, the range and the value on a bad option', () => {
    expect(() => createDashboard({ groups: [], intervalMs: 5000 })).toThrow(InvalidOptionError);
    expect(() => createDashboard({ groups: [], intervalMs: 5000 })).toThrow(/intervalMs/);
    expect(() => createDashboard({ groups: [], basePath: 'dash/' })).toThrow(/basePath/);
    expect(() => createDashboard({ groups: 'x' as never })).toThrow(/groups/);
  });

  it('refuses an unknown key, naming the nearest known one, in the options and in a listed group', () => {
    expect(() => createDashboard({ groups: [], intervalMS: 200 } as never)).toThrow('intervalMS: expected one of the Dashboard options (did you mean "intervalMs"?), received 200');
    const gate = new ConcurrencyGate({ name: 'g', limit: 1 });
    expect(() => createDashboard({ groups: [{ name: 'api', gates: [gate] }, { name: 'jobs', gate: [gate] }] } as never)).toThrow(
      /^groups\[1\]\.gate: expected one of the dashboard group options \(did you mean "gates"\?\)/,
    );
  });
});
