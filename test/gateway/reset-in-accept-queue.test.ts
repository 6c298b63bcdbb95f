// A client that resets its connection while it waits in the listener's accept queue
// (hostile-11): the gateway, busy, has not accepted it yet — an overload's timed-out clients.
// Accepted later, the kernel hands over its request and then end-of-stream, as for a client
// that half-closed (the reset's error shows only at a write), and the half-close policy kept
// the request: queued, then served when a slot freed — upstream work for nobody. A reset peer
// has no address any more; its request now leaves as a reset's does. The gateway is a spawned
// CLI, stopped (SIGSTOP) while the client connects, writes and resets: the accept queue holds it.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, upstream, within } from './helpers.js';

afterEach(cleanup);

describe('a client that resets in the accept queue', () => {
  it('is not served: its request leaves the queue; a client that half-closes there is still served', async () => {
    const seen: string[] = [];
    let release: (() => void) | undefined;
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/hold') release = () => res.end('held');
      else res.end('ok');
    });
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '1', '--queue-timeout', '30s']);
    const holder = get(`${gw.url}/hold`);
    while (release === undefined) await new Promise((r) => setTimeout(r, 10));
    const u = new URL(gw.url);
    const client = (path: string): { socket: ReturnType<typeof connect>; text: () => string; closed: Promise<void>; connected: Promise<void> } => {
      const socket = connect(Number(u.port), u.hostname);
      socket.on('error', () => undefined);
      let text = '';
      socket.setEncoding('latin1').on('data', (d: string) => (text += d));
      const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      void connected.then(() => socket.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`));
      return { socket, text: () => text, closed: new Promise<void>((resolve) => socket.on('close', () => resolve())), connected };
    };
    // The gateway stopped: the kernel completes the handshake, queues the connection and its
    // request for the listener, then takes the reset.
    gw.child.kill('SIGSTOP');
    const reset = client('/reset');
    await reset.connected;
    await new Promise((r) => setImmediate(r));
    reset.socket.resetAndDestroy();
    await reset.closed;
    gw.child.kill('SIGCONT');
    const requests = async (): Promise<number> => (JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { counters: { requests: number } }).counters.requests;
    expect(await within(10_000, async () => (await requests()) >= 2)).toBe(true);
    // A client that half-closes once its request is written still reads: queued, then served.
    const fin = client('/fin');
    await fin.connected;
    fin.socket.end();
    expect(await within(10_000, async () => (await requests()) >= 3)).toBe(true);
    release();
    expect((await holder).status).toBe(200);
    await fin.closed;
    expect(fin.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual(['/hold', '/fin']);
  }, 60_000);
});
