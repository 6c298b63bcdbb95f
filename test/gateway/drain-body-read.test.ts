// A drain's deadline answers a request whose upload is still arriving 503 `draining`
// (drain-uploads.test.ts) — but its body read went on: the response's end does not end the
// request's stream (node:http forgets a request once its response is finished: no 'close' for
// it when the socket closes later), so the read's bodyTimeout timer kept the process alive
// and the bytes read so far stayed counted in `server.bodyMemory` until it fired (hostile-13).
// The CLI logged "stopped" at the deadline and exited bodyTimeout later (30 s by default, up to
// 10 minutes), past a supervisor's grace; with `Expect: 100-continue` too. Now the read ends
// with its response. In process, and the spawned CLI for the exit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, oneRoute, startInProcess, tempDir, upstream, within } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

const heads: [string, string][] = [
  ['a body still arriving', 'POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10)],
  ['a body after 100 Continue', 'POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n'],
];

/** Send `head` (and, after its 100 Continue, 10 bytes of the body) and wait until the gateway holds those 10 bytes. */
async function uploading(url: string, head: string, held: () => Promise<number> | number): Promise<ReturnType<typeof rawSocket>> {
  const slow = rawSocket(url);
  slow.socket.write(head);
  if (head.includes('Expect')) {
    expect(await within(10_000, () => slow.text().startsWith('HTTP/1.1 100 '))).toBe(true);
    slow.socket.write('y'.repeat(10));
  }
  expect(await within(10_000, async () => (await held()) === 10, 20)).toBe(true);
  return slow;
}

describe('the drain deadline and a request still uploading: its body read ends with the answer', () => {
  it('answered 503, its bytes no longer held in bodyMemory', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { bodyTimeout: '10m' } }));
    const slow = await uploading(gw.url, heads[0]![1], () => gw.status().memory.bodies.used);
    await gw.drain(200);
    await slow.closed;
    expect(slow.text()).toMatch(/^HTTP\/1\.1 503 /);
    // Before: 10, until the body read's 10-minute timer.
    expect(gw.status().memory.bodies.used).toBe(0);
  });

  for (const [name, head] of heads) {
    it(`${name}: the spawned gateway exits at the deadline, not bodyTimeout later`, { timeout: 60_000 }, async () => {
      const up = await upstream((_req, res) => res.end('ok'));
      const file = join(tempDir(), 'sluice.yaml');
      writeFileSync(
        file,
        [
          'listen: { host: 127.0.0.1, port: 0 }',
          'admin: { port: 0 }',
          'server: { bodyTimeout: 10m }',
          'drain: { timeout: 500ms }',
          `upstreams: { app: { url: "${up.url}" } }`,
          'routes: [{ path: / }]',
          '',
        ].join('\n'),
      );
      const gw = await gateway(['gateway', '--config', file]);
      const held = async (): Promise<number> => {
        const res = await fetch(`${gw.adminUrl}/status`);
        return ((await res.json()) as { memory: { bodies: { used: number } } }).memory.bodies.used;
      };
      const slow = await uploading(gw.url, head, held);
      gw.child.kill('SIGTERM');
      await gw.waitFor('stopped', 20_000);
      await slow.closed;
      expect(slow.text()).toMatch(/HTTP\/1\.1 503 /);
      // Before: still running here, until the body read's 10-minute timer.
      const exit = await Promise.race([gw.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
      expect(exit).toBe(0);
    });
  }
});
