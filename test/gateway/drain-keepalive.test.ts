// Drain under load (hostile finding F26): a response written after the drain began must say
// Connection: close. It said keep-alive, so its connection went idle and was closed by the
// drain's idle sweep — racing the client's next request, which was then lost to a reset (15 of
// ~100 requests in flight at SIGTERM under a closed-loop load). With Connection: close the
// client knows not to send on it.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

describe('drain', () => {
  it('a response written after the drain began closes its keep-alive connection (Connection: close)', async () => {
    let arrived = (): void => undefined;
    const atUpstream = new Promise<void>((r) => (arrived = r));
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    const up = await upstream((_req, res) => {
      arrived();
      void held.then(() => res.end('ok'));
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/', policy: { concurrency: 4 } }] }));
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write('GET /x HTTP/1.1\r\nHost: gw\r\n\r\n');
    await atUpstream;
    const drained = gw.drain(5_000);
    release();
    await closed;
    await drained;
    expect(text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(text()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('a request sent on an idle keep-alive connection as the drain begins is answered (503, Connection: close), not lost', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/', policy: { concurrency: 4 } }] }));
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    let text = '';
    const replies = (): number => text.split('HTTP/1.1 ').length - 1;
    let onData = (): void => undefined;
    socket.setEncoding('latin1').on('data', (d: string) => {
      text += d;
      onData();
    });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.write('GET /x HTTP/1.1\r\nHost: gw\r\n\r\n');
    await new Promise<void>((r) => (onData = () => (/\r\n\r\nok$/.test(text) ? r() : undefined)));
    expect(text).not.toMatch(/connection: close/i);
    // The connection is idle (keep-alive) when the drain begins; the client sends its next request at once.
    const drained = gw.drain(5_000);
    socket.write('GET /y HTTP/1.1\r\nHost: gw\r\n\r\n');
    await closed;
    await drained;
    expect(replies()).toBe(2);
    expect(text).toMatch(/HTTP\/1\.1 503 [\s\S]*\r\nConnection: close\r\n/i);
  });
});
