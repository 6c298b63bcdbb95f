// UpstreamPool against an https: origin whose server accepts TCP and never answers the
// ClientHello: the trip's deadline cuts the handshake as it cuts a TCP connect (the pool's
// connector keeps the socket until 'secureConnect', not 'connect'). Before, the socket was
// forgotten once TCP connected, and a request that had waited for a connection was failed by
// undici's connect timeout — `timeout` from its own connect's start, up to twice `timeout`
// after its dispatch. The gateway's config takes http: upstreams only; the pool takes any origin.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamPool } from '../../src/gateway/upstream-pool.js';
import { cleanup, onCleanup } from './helpers.js';

afterEach(cleanup);

/** A TCP server that accepts and never writes a byte. */
async function silentTls(): Promise<number> {
  const held: Socket[] = [];
  const server = createServer((s) => void held.push(s.on('error', () => undefined)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

/** One GET through `pool`: its error's code (or 'answered'). */
function send(pool: UpstreamPool): Promise<string> {
  return new Promise((resolve) => {
    const handler: Dispatcher.DispatchHandler = {
      onConnect: () => undefined,
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => resolve('answered'),
      onError: (err) => resolve(String((err as { code?: string }).code)),
    };
    pool.dispatch({ method: 'GET', path: '/' }, handler);
  });
}

describe('a TLS handshake that never completes', () => {
  it("is cut at the trip's deadline, the one of a request that first waited for the connection too", async () => {
    const port = await silentTls();
    const pool = new UpstreamPool(`https://127.0.0.1:${port}`, { connections: 1, headersTimeout: 3_000, bodyTimeout: 3_000 });
    onCleanup(() => pool.destroy());
    const a = send(pool);
    await new Promise((r) => setTimeout(r, 1_000));
    // B waits for A's connection, then opens it again: its handshake is under way at its deadline.
    const b = send(pool);
    // A's own connect started at its dispatch: its deadline and undici's connect timeout come together.
    await a;
    // Before: 'UND_ERR_CONNECT_TIMEOUT' — undici's connect timeout, 3 s from B's own connect (which began when A's ended, about
    // 3 s after A's dispatch): some 5 s after B's dispatch, not at B's deadline, 3 s after it.
    const rb = await b;
    expect(rb).toBe('UPSTREAM_TIMEOUT');
  }, 30_000);
});
