// An upstream that floods interim responses (103 Early Hints, one after another, megabytes of
// them) at a client that does not read. The gateway relays 1xx to HTTP/1.1 clients
// (interim-responses.ts), written raw, past the response buffer and its backpressure: each
// that the client's connection did not take stayed in the gateway's memory until the client
// read it, however many came. A 1xx is advisory (RFC 9110 section 15.2: a client may ignore
// it), so one that would go behind more than the response buffer of pending bytes is dropped.
// In process, on loopback, against an upstream that writes raw bytes.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, onCleanup, oneRoute, startInProcess } from './helpers.js';
import { scriptedUpstream } from './raw-upstream.js';

afterEach(cleanup);

const COUNT = 6_000;
const HINT = `HTTP/1.1 103 Early Hints\r\nLink: </${'a'.repeat(4_000)}.js>; rel=preload\r\n\r\n`;

/** Answers each request with COUNT 103s (~24 MB) then a 200; `written` settles once the upstream's socket took all of it. */
async function floodingUpstream(): Promise<{ url: string; written: Promise<void> }> {
  let done!: () => void;
  const written = new Promise<void>((r) => (done = r));
  const up = await scriptedUpstream((s) => {
    for (let i = 0; i < COUNT; i++) s.write(HINT, 'latin1');
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal', 'latin1', () => done());
  });
  return { url: up.url, written };
}

describe('an upstream flooding interim responses at a client that does not read', () => {
  it('what the client did not take is bounded: 103s beyond the response buffer are dropped, the final response comes whole', async () => {
    const up = await floodingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '30s'));
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    onCleanup(async () => void socket.destroy());
    socket.pause();
    socket.write('GET /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    // The upstream's socket took everything: the gateway read every 103 and the final response.
    await up.written;
    const chunks: Buffer[] = [];
    const text = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no end of the response within 60 s')), 60_000);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => (clearTimeout(timer), resolve(Buffer.concat(chunks).toString('latin1'))));
      socket.resume();
    });
    const hints = text.split('HTTP/1.1 103 Early Hints\r\n').length - 1;
    // Kernel buffers on loopback hold some megabytes; the rest of ~24 MB was dropped, not held.
    expect(hints).toBeGreaterThan(0);
    expect(hints).toBeLessThan(COUNT / 2);
    expect(text).toMatch(/HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfinal$/);
  }, 90_000);
});
