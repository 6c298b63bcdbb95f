// SIGTERM in the middle of a storm: requests admitted and at the upstream, requests queued for
// a slot, and refused keep-alive connections paused (server.pauseRefused) with their next
// request waiting unread in the kernel's buffer. The drain answers every one of them: the
// admitted finish (200, Connection: close), the queued are answered 503 with the drain's
// Retry-After and Connection: close, the paused are read again and their waiting request
// answered the same, every connection is closed, and the process exits 0 once the admitted are
// done — before the drain's deadline, which it never reaches (no cut is logged).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayStatus } from '../../src/gateway/index.js';
import { cleanup, gateway, get, tempDir, within } from './helpers.js';
import { heldUpstream } from './held-upstream.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

const WAIT_MS = 15_000;

const yaml = (up: string): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { pauseRefused: 8s, pauseRefusedLoad: 0, keepAliveTimeout: 20s, headersTimeout: 20s }
drain: { timeout: 30s, retryAfter: 7s }
upstreams:
  app: { url: ${up}, timeout: 60s }
policies:
  p: { concurrency: { limit: 2, queue: 3, queueTimeout: 60s } }
routes:
  - { path: /, policy: p }
`;

const request = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`;

/** The responses' status lines and Connection headers in `text`, in order. */
function answers(text: string): { status: number; close: boolean; retryAfter: string | undefined }[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => ({
    status: Number(m[1]),
    close: /\r\nconnection: close\r\n/i.test(`\r\n${m[2]!}\r\n`),
    retryAfter: /\r\nretry-after: *(\d+)\r\n/i.exec(`\r\n${m[2]!}\r\n`)?.[1],
  }));
}

describe('SIGTERM during a storm', () => {
  it('admitted requests finish, queued ones get 503 + Retry-After + Connection: close, paused connections are read, answered and closed; the process exits 0 before the drain deadline', async () => {
    const up = await heldUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url));
    const gw = await gateway(['gateway', '--config', file]);
    const status = async (): Promise<GatewayStatus> => JSON.parse((await get(`${gw.adminUrl}/status`)).body) as GatewayStatus;

    const admitted = [rawSocket(gw.url), rawSocket(gw.url)];
    for (const c of admitted) c.socket.write(request('/admitted'));
    expect(await within(WAIT_MS, () => up.now() === 2)).toBe(true);
    const queued = [rawSocket(gw.url), rawSocket(gw.url), rawSocket(gw.url)];
    for (const c of queued) c.socket.write(request('/queued'));
    expect(await within(WAIT_MS, async () => (await status()).queued === 3, 50)).toBe(true);
    // The storm: refused queue_full, paused, and sending again at once (the request waits unread).
    const storm = Array.from({ length: 4 }, () => rawSocket(gw.url));
    for (const c of storm) c.socket.write(request('/storm'));
    expect(await within(WAIT_MS, () => storm.every((c) => answers(c.text()).length === 1))).toBe(true);
    for (const c of storm) expect(answers(c.text())[0]).toMatchObject({ status: 503, close: false });
    for (const c of storm) c.socket.write(request('/storm-again'));
    expect(await within(WAIT_MS, async () => (await status()).paused.now === 4, 50)).toBe(true);
    expect(storm.every((c) => answers(c.text()).length === 1)).toBe(true); // paused: not read

    const from = gw.lines.length;
    gw.child.kill('SIGTERM');
    // Queued: 503 with the drain's Retry-After, Connection: close, then closed.
    await Promise.all(queued.map((c) => c.closed));
    for (const c of queued) expect(answers(c.text())).toEqual([{ status: 503, close: true, retryAfter: '7' }]);
    // Paused: read again, the waiting request answered the same, the connection closed.
    await Promise.all(storm.map((c) => c.closed));
    for (const c of storm) expect(answers(c.text()).slice(1)).toEqual([{ status: 503, close: true, retryAfter: '7' }]);
    for (const c of [...queued, ...storm]) expect(c.text().slice(c.text().lastIndexOf('HTTP/1.1 '))).toContain('"reason":"closed"');
    // Admitted: still at the upstream; they finish once it answers.
    expect(up.now()).toBe(2);
    up.letGo();
    await Promise.all(admitted.map((c) => c.closed));
    for (const c of admitted) expect(answers(c.text())).toEqual([{ status: 200, close: true, retryAfter: undefined }]);
    expect(await gw.exited).toBe(0);
    const msgs = gw.lines.slice(from).flatMap((l) => {
      try {
        return [String((JSON.parse(l) as Record<string, unknown>)['msg'])];
      } catch {
        return [];
      }
    });
    expect(msgs).toContain('stopped');
    expect(msgs).not.toContain('drain deadline passed: cutting connections');
    expect(up.peak()).toBe(2);
  }, 60_000);
});
