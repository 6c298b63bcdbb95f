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

/** An upstream that answers each request with the bytes its path names (one character a byte: latin1); `then`: what it does after them. */
export async function rawUpstream(answers: Record<string, string>, then: Record<string, 'close' | 'stall'> = {}): Promise<RawUpstream> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    onRequests(s, seen, (path) => {
      s.write(answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
      // A FIN, not a reset: it comes after the bytes written (a reset may overtake them).
      if (then[path] === 'close') s.end();
    });
  });
  return { url: await listening(server, sockets), seen, connections: () => connections };
}

/** Each request head `s` brings (bodies are not read: these upstreams get none), its path noted in `seen`, then `answer`. */
function onRequests(s: Socket, seen: string[], answer: (path: string) => void): void {
  let buf = '';
  s.on('error', () => undefined);
  s.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const path = /^\w+ (\S+)/.exec(buf)?.[1] ?? '';
      buf = buf.slice(end + 4);
      seen.push(path);
      answer(path);
    }
  });
}

/** `server` listening on loopback, closed (and `sockets` destroyed) after the test: its URL. */
async function listening(server: Server, sockets: Set<Socket>): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(
    () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * An upstream that answers each request with its path as the body, but a path in `heads` with
 * that head alone; and then on that connection, once the next request is on its way, sends
 * ahead of its answer the body it meant for that head: `late` (hostile-10).
 */
export async function lateBodyUpstream(heads: Record<string, { head: string; late: string }>): Promise<RawUpstream> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    let late = '';
    onRequests(s, seen, (path) => {
      s.write(late + (heads[path]?.head ?? `HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`));
      late = heads[path]?.late ?? '';
    });
  });
  return { url: await listening(server, sockets), seen, connections: () => sockets.size };
}

/** An upstream that answers each request by `answer` writing to its socket as it likes (paths noted in `seen`). */
export async function scriptedUpstream(answer: (s: Socket, path: string) => void): Promise<RawUpstream> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    onRequests(s, seen, (path) => answer(s, path));
  });
  return { url: await listening(server, sockets), seen, connections: () => sockets.size };
}
