// A client that sends its request and resets while the gateway is not reading (an overload's
// timed-out clients: the accept queue, a busy loop) — and then finds a free slot. Read later,
// the kernel hands over the request and only then end-of-stream: the request was admitted at
// once and forwarded in the same read, before the gateway saw that its client was gone
// (reset-in-accept-queue.test.ts covers the one that must queue). Upstream work for nobody,
// when upstream capacity is scarcest. Now it is dropped before the upstream, and counted
// (`counters.clientGone`). A client that half-closes there (a FIN) still reads: it is served.
// The gateway is a spawned CLI, stopped (SIGSTOP) while the clients connect, write and leave.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Client {
  readonly text: () => string;
  readonly closed: Promise<void>;
  /** Connected and its bytes written. */
  readonly sent: Promise<void>;
  readonly socket: ReturnType<typeof connect>;
}

function client(url: string, bytes: string): Client {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => undefined);
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  const sent = new Promise<void>((resolve) => socket.once('connect', () => socket.write(bytes, () => resolve())));
  return { socket, text: () => text, closed: new Promise<void>((resolve) => socket.on('close', () => resolve())), sent };
}

describe('a client that resets before the gateway reads its request, with a slot free', () => {
  it.each([
    ['a policy with room', ['--concurrency', '4']],
    ['no policy', []],
  ])('%s: never forwarded, counted clientGone; a half-closed one beside it is served', async (_name, policy) => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      req.resume().on('end', () => res.end('ok'));
    });
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', ...policy]);
    const status = async (): Promise<{ requests: number; clientGone?: number }> => (JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { counters: { requests: number; clientGone?: number } }).counters;
    // A warm upstream connection: undici writes a request on it in the call that dispatches it.
    expect((await get(`${gw.url}/warm`)).status).toBe(200);
    const before = (await status()).requests;
    gw.child.kill('SIGSTOP');
    try {
      const resetGet = client(gw.url, 'GET /reset-get HTTP/1.1\r\nHost: gw\r\n\r\n');
      const resetPost = client(gw.url, 'POST /reset-post HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello');
      const fin = client(gw.url, 'GET /fin HTTP/1.1\r\nHost: gw\r\n\r\n');
      await Promise.all([resetGet.sent, resetPost.sent, fin.sent]);
      resetGet.socket.resetAndDestroy();
      resetPost.socket.resetAndDestroy();
      fin.socket.end();
      await Promise.all([resetGet.closed, resetPost.closed]);
      gw.child.kill('SIGCONT');
      await fin.closed;
      expect(fin.text()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      gw.child.kill('SIGCONT');
    }
    // The three were read (and the status calls after them).
    expect(await within(10_000, async () => (await status()).requests >= before + 3)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['/warm', '/fin']);
    expect((await status()).clientGone).toBe(2);
    expect((await get(`${gw.adminUrl}/metrics`)).body).toMatch(/^sluice_requests_client_gone_total\{stage="before_forward"\} 2$/m);
  }, 60_000);

  it('one that resets while its body is read: never forwarded, counted clientGone', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      req.resume().on('end', () => res.end('ok'));
    });
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '4']);
    const counters = async (): Promise<{ requests: number; clientGone?: number }> => (JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { counters: { requests: number; clientGone?: number } }).counters;
    const uploading = client(gw.url, 'POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\nhalf');
    await uploading.sent;
    expect(await within(10_000, async () => (await counters()).requests >= 1)).toBe(true);
    uploading.socket.resetAndDestroy();
    expect(await within(10_000, async () => (await counters()).clientGone === 1)).toBe(true);
    expect((await get(`${gw.url}/after`)).status).toBe(200);
    expect(seen).toEqual(['/after']);
    expect((await counters()).clientGone).toBe(1);
  }, 60_000);
});
