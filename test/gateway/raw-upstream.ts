// An upstream that writes raw bytes (no HTTP library between the test and the gateway): what
// broken or hostile upstreams send, for tests of what the gateway makes of it.
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { onCleanup } from './helpers.js';

export interface RawUpstream {
  readonly url: string;
  /** The paths of the requests it read, in order. */
  readonly seen: string[];
  /** Connections it accepted so far. */
  connections(): number;
}

/** An upstream that answers each request with the bytes its path names; `then`: what it does after them. */
export async function rawUpstream(answers: Record<string, string>, then: Record<string, 'close' | 'stall'> = {}): Promise<RawUpstream> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const path = /^\w+ (\S+)/.exec(buf)?.[1] ?? '';
        buf = buf.slice(end + 4);
        seen.push(path);
        s.write(answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        // A FIN, not a reset: it comes after the bytes written (a reset may overtake them).
        if (then[path] === 'close') s.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(
    () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections };
}
