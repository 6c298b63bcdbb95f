// A request that has passed through sluice gateways MAX_SLUICE_HOPS times is a loop (an upstream
// that leads back to the gateway: its own port, a DNS name for this host, a chain that closes
// on itself). Each pass adds `Via: 1.1 sluice` (forward-headers.ts); before this check every
// client request fanned out into about `concurrency` requests, each holding a slot until its
// queue timeout, and the client got a 504 or 503 after it.
import type { IncomingMessage } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { MAX_SLUICE_HOPS, messageVerdict, sluiceHops } from '../../src/gateway/message-checks.js';
import { cleanup, deadPort, get, oneRoute, startInProcess } from './helpers.js';

afterEach(cleanup);

const req = (via: string | undefined): IncomingMessage =>
  ({ httpVersion: '1.1', headers: { host: 'gw', ...(via === undefined ? {} : { via }) }, rawHeaders: ['Host', 'gw', ...(via === undefined ? [] : ['Via', via])] }) as unknown as IncomingMessage;

describe('sluiceHops: the entries of Via received by a sluice gateway', () => {
  it('counts `<version> sluice` entries, not other pseudonyms, comments or look-alikes', () => {
    expect(sluiceHops(undefined)).toBe(0);
    expect(sluiceHops('1.1 sluice')).toBe(1);
    expect(sluiceHops('1.0 fred, 1.1 sluice, HTTP/1.1 sluice (sluice, sluice), 1.1 sluicebox, 1.1 proxy.sluice')).toBe(2);
    expect(sluiceHops(Array.from({ length: 12 }, () => '1.1 sluice').join(','))).toBe(12);
    expect(sluiceHops('1.1   SLUICE  ,1.0 sluice')).toBe(2);
  });

  it('refuses the request at MAX_SLUICE_HOPS with 508 loop_detected, and not one hop before', () => {
    const via = (n: number): string => Array.from({ length: n }, () => '1.1 sluice').join(', ');
    expect(messageVerdict(req(via(MAX_SLUICE_HOPS - 1)), 16_384)).toBeUndefined();
    expect(messageVerdict(req(via(MAX_SLUICE_HOPS)), 16_384)).toMatchObject({ status: 508, reason: 'loop_detected' });
    expect(messageVerdict(req(undefined), 16_384)).toBeUndefined();
  });
});

describe('a gateway whose upstream leads back to itself', () => {
  it('answers 508 loop_detected after MAX_SLUICE_HOPS passes, not a slot per pass until the queue times out', async () => {
    // Through a TCP relay: an upstream at the gateway's own address and port is refused by the
    // config check (e1731ef); a loop it cannot see — a relay, a DNS name for this host, a chain —
    // is what the Via count is for.
    const port = await deadPort();
    const piped = new Set<Socket>();
    const relay = createServer((c) => {
      const to = connect(port, '127.0.0.1');
      for (const sock of [c, to]) {
        piped.add(sock);
        sock.on('close', () => piped.delete(sock));
      }
      c.pipe(to).pipe(c);
      c.on('error', () => to.destroy());
      to.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          relay.close(() => resolve());
          for (const sock of piped) sock.destroy();
        }),
    );
    const relayPort = (relay.address() as AddressInfo).port;
    const gw = await startInProcess({ ...oneRoute(`http://127.0.0.1:${relayPort}`, '5s'), listen: { host: '127.0.0.1', port }, policies: { default: { concurrency: { limit: 50, queue: 100, queueTimeout: '2s' } } } });
    const r = await get(`${gw.url}/x`);
    expect(r.status).toBe(508);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'loop_detected' });
    const status = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { badRequests: Record<string, number> };
    expect(status.badRequests['loop_detected']).toBe(1);
  });
});
