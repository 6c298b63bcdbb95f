// The lingering close after an answer to a client still uploading (responses.ts lingerOnClose)
// reads and drops what comes for up to LINGER_MS — and at most LINGER_BYTES of it, as the
// connection limiter's lingering does: past that the socket is not read, so a client pushing
// 16 MB at once cannot have the gateway read and drop all of it. Not read is not cut: a reset
// would wipe the answer out of a client that has not read it yet (hostile-12), so the client's
// bytes wait in TCP until it reads its answer and closes, or the time cap ends it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LINGER_BYTES, lingerOnClose } from '../../src/gateway/responses.js';
import { cleanup, onCleanup, sleep } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

describe('a lingering close', () => {
  it('reads at most about LINGER_BYTES of an upload after its answer, and the answer still reaches a client that reads it late', async () => {
    const read: Promise<number>[] = [];
    const server = createServer((req, res) => {
      const socket = req.socket;
      const before = socket.bytesRead;
      read.push(new Promise((resolve) => socket.once('close', () => resolve(socket.bytesRead - before))));
      res.setHeader('Connection', 'close');
      lingerOnClose(res);
      res.writeHead(413, { 'Content-Length': '2' });
      res.end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { socket, text, closed } = rawSocket(url);
    socket.pause();
    socket.write(Buffer.concat([Buffer.from('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n', 'latin1'), Buffer.alloc(16 * 1024 * 1024, 97)]));
    await sleep(300);
    socket.resume();
    await Promise.race([closed, sleep(5_000)]);
    socket.destroy();
    expect(text()).toMatch(/^HTTP\/1\.1 413 /);
    // The cap, plus what node:http read natively in the turn before counting began (a few 64 kB
    // reads; 16 MB, all of it, before the cap).
    expect(await read[0]).toBeGreaterThan(LINGER_BYTES);
    expect(await read[0]).toBeLessThan(4 * 1024 * 1024);
  });
});
