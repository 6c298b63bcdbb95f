// A raw upstream over node:net that hands each whole request (head, and a body by its
// Content-Length) to `onRequest` with its request line, its socket and the number of its
// connection (1, 2, ...), counting requests per connection: for upstreams that close a connection
// at a chosen request instead of answering. Closed by cleanup().
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { onCleanup } from './helpers.js';

/** `served`: the requests before this one on its connection. */
export type OnRequest = (line: string, socket: Socket, connection: number, served: number) => void;

export async function lineUpstream(onRequest: OnRequest): Promise<string> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((s) => {
    sockets.add(s);
    const id = ++connections;
    let served = 0;
    let text = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (let end = text.indexOf('\r\n\r\n'); end >= 0 && !s.destroyed; end = text.indexOf('\r\n\r\n')) {
        const head = text.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
        text = text.slice(end + 4 + length);
        onRequest(head.slice(0, head.indexOf('\r\n')), s, id, served++);
      }
    });
  });
  onCleanup(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
