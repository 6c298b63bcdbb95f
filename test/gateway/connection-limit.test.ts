// A connection over server.maxConnections is answered, not dropped: node:net's maxConnections
// closed it at accept (the client saw an empty reply, as from a crash). Now it gets a fixed 503
// connections_full with Retry-After and Connection: close, written without parsing its request,
// and the connection closes; counted in /status and /metrics. The cost of each is bounded: a
// client that sends on and on, or never closes, is cut, and past REFUSING of them lingering at
// once the extras are closed at accept again (counted dropped). In process, on loopback.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLimit, REFUSING } from '../../src/gateway/connection-limit.js';
import { LINGER_BYTES } from '../../src/gateway/responses.js';
import { cleanup, metricSample, oneRoute, onCleanup, startInProcess, upstream, within } from './helpers.js';
import { rawConversation, rawExchange, rawSocket } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';

/** `n` kept-alive connections, each having had one request answered: the gateway holds them. */
/** A node:http server capped at one connection by a ConnectionLimit (outcomes pushed to `outcomes`), closed after the test. */
async function cappedServer(outcomes: string[], options: ConstructorParameters<typeof ConnectionLimit>[2]): Promise<{ limit: ConnectionLimit; url: string; server: Server }> {
  const limit = new ConnectionLimit(1, (o) => outcomes.push(o), options);
  const server = createServer((_req, res) => res.end('ok'));
  limit.attach(server);
  limit.apply(server, 1);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(async () => {
    server.closeAllConnections();
    server.close();
  });
  return { limit, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function holdConnections(url: string, n: number): Promise<Socket[]> {
  const u = new URL(url);
  const held: Socket[] = [];
  onCleanup(async () => held.forEach((s) => s.destroy()));
  for (let i = 0; i < n; i++) {
    const s = connect(Number(u.port), u.hostname);
    s.on('error', () => undefined);
    held.push(s);
    await new Promise<void>((resolve) => {
      s.once('data', () => resolve());
      s.write(`GET /held HTTP/1.1\r\n${H}\r\n`);
    });
  }
  return held;
}

describe('connections over server.maxConnections', () => {
  it('are answered 503 connections_full with Retry-After and Connection: close, counted; a freed slot serves again', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxConnections: 2 } }));
    const held = await holdConnections(gw.url, 2);
    const over = await rawConversation(gw.url, `GET /over HTTP/1.1\r\n${H}\r\n`);
    expect(over.open).toBe(false);
    expect(over.text).toMatch(/^HTTP\/1\.1 503 /);
    expect(over.text).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect(over.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(over.text).toMatch(/"reason":"connections_full"/);
    // A client that only connects and waits is told as well.
    const silent = rawSocket(gw.url);
    await silent.closed;
    expect(silent.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(gw.status().counters).toMatchObject({ connectionsRefused: 2, connectionsDropped: 0, requests: 2 });
    const text = (await gw.metrics()) ?? '';
    expect(metricSample(text, 'sluice_connections_over_limit_total', { outcome: 'refused' })).toBe(2);
    expect(metricSample(text, 'sluice_connections_over_limit_total', { outcome: 'dropped' })).toBe(0);
    held[0]!.destroy();
    expect(await within(5_000, async () => (await rawExchange(gw.url, `GET /again HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).status === 200)).toBe(true);
  });

  it('a refused client that sends on and on is paused after LINGER_BYTES and let go after the linger, and one that never closes after the linger', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxConnections: 1 } }));
    await holdConnections(gw.url, 1);
    // Sends 1 MB, never reads the answer, never closes.
    const flood = rawSocket(gw.url);
    flood.socket.write(Buffer.alloc(1024 * 1024, 'a'));
    await flood.closed;
    // Paused past LINGER_BYTES, the gateway's side does not see the client go: it lets go after the linger (1 s).
    expect(await within(10_000, () => gw.status().connections.refusing === 0, 50)).toBe(true);
    // Neither sends nor closes its side (a half-open client does not answer the gateway's FIN with its own).
    const stuck = halfOpen(gw.url);
    await stuck.ended;
    expect(stuck.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(gw.status().connections).toEqual({ open: 1, refusing: 1 });
    // Let go after the linger (1 s), though the client still holds its side.
    expect(await within(10_000, () => gw.status().connections.refusing === 0, 50)).toBe(true);
    expect(gw.status().counters).toMatchObject({ connectionsRefused: 2, connectionsDropped: 0 });
  });

  it('past REFUSING lingering at once, the extras are closed at accept and counted dropped', async () => {
    const outcomes: string[] = [];
    const { limit, url } = await cappedServer(outcomes, { lingerMs: 60_000 });
    await holdConnections(url, 1);
    const lingering = Array.from({ length: REFUSING }, () => halfOpen(url));
    await Promise.all(lingering.map((c) => c.answered));
    const extra = Array.from({ length: 8 }, () => halfOpen(url));
    await Promise.all(extra.map((c) => c.ended));
    expect(extra.map((c) => c.text())).toEqual(extra.map(() => ''));
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(REFUSING);
    expect(outcomes.filter((o) => o === 'dropped')).toHaveLength(8);
    expect(limit.open).toBe(1);
    expect(limit.refusing).toBe(REFUSING);
    lingering.forEach((c) => c.socket.destroy());
  });
});

describe('a refused client that sends past LINGER_BYTES before it reads', () => {
  it('still reads the 503 and its Retry-After: the gateway stops reading (paused), it does not reset the connection, and lets go after the linger', async () => {
    const outcomes: string[] = [];
    const { limit, url, server } = await cappedServer(outcomes, { lingerMs: 1_500 });
    await holdConnections(url, 1);
    const sides: Socket[] = [];
    server.on('connection', (s: Socket) => sides.push(s));
    const u = new URL(url);
    const client = connect(Number(u.port), u.hostname);
    onCleanup(async () => void client.destroy());
    let text = '';
    let reset = false;
    client.on('error', () => (reset = true));
    client.pause(); // reads nothing until it has sent its 1 MB
    client.write(Buffer.alloc(1024 * 1024, 'a'));
    expect(await within(5_000, () => sides.length === 1 && sides[0]!.bytesRead > LINGER_BYTES, 5)).toBe(true);
    // Before, the gateway destroyed its side here, with the client's bytes unread: a reset, which
    // discards what of the answer is not sent yet and fails the client's sends (curl then reports
    // "Failed sending data to the peer", not the status). Now it stops reading and keeps the connection.
    expect(sides[0]!.destroyed).toBe(false);
    expect(sides[0]!.isPaused()).toBe(true);
    expect(limit.refusing).toBe(1);
    client.setEncoding('latin1').on('data', (d: string) => (text += d));
    client.resume();
    expect(await within(10_000, () => text.includes('connections_full') || reset, 5)).toBe(true);
    expect(reset).toBe(false);
    expect(text).toMatch(/^HTTP\/1\.1 503 /);
    expect(text).toMatch(/\r\nRetry-After: 1\r\n/i);
    // Bounded: it read no more than LINGER_BYTES and a chunk, and the connection goes after the linger.
    expect(sides[0]!.bytesRead).toBeLessThan(LINGER_BYTES + 1024 * 1024);
    expect(await within(10_000, () => limit.refusing === 0, 50)).toBe(true);
    expect(outcomes).toEqual(['refused']);
  });
});

describe('answers per second', () => {
  it('past ANSWERS_PER_S in a second, connections over the cap are closed at accept; a new second answers again', async () => {
    const outcomes: string[] = [];
    let now = 0;
    const { limit, url } = await cappedServer(outcomes, { answersPerS: 3, now: () => now });
    await holdConnections(url, 1);
    const answer = async (): Promise<string> => {
      const c = rawSocket(url);
      await c.closed;
      return c.text().slice(0, 12);
    };
    const first: string[] = [];
    for (let i = 0; i < 5; i++) first.push(await answer());
    expect(first).toEqual(['HTTP/1.1 503', 'HTTP/1.1 503', 'HTTP/1.1 503', '', '']);
    now = 1000;
    // The first close at accept of the new second gives the answers back.
    expect(await answer()).toBe('');
    expect(await answer()).toBe('HTTP/1.1 503');
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'dropped', 'dropped', 'dropped', 'refused']);
    expect(limit.open).toBe(1);
  });
});

/** A raw client that never closes its side (allowHalfOpen): what it got, its first bytes, the server's FIN. */
function halfOpen(url: string): { socket: Socket; text: () => string; answered: Promise<void>; ended: Promise<void> } {
  const u = new URL(url);
  const socket = connect({ port: Number(u.port), host: u.hostname, allowHalfOpen: true });
  onCleanup(async () => void socket.destroy());
  let text = '';
  const answered = new Promise<void>((r) => socket.once('data', () => r()));
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((r) => {
    socket.on('end', () => r());
    socket.on('close', () => r());
  });
  return { socket, text: () => text, answered, ended };
}
