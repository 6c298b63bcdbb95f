// A large response written as fast as its reader (the gateway) takes it: the upstream of the
// slow-reader tests (slow-readers-yield, upstream-inflight).
import type { ServerResponse } from 'node:http';

const CHUNK = Buffer.alloc(64 * 1024, 98);

/** `chunks` × 64 KB, with its Content-Length: each write after the one before it drained. */
export function writeBig(res: ServerResponse, chunks: number): void {
  let left = chunks;
  res.writeHead(200, { 'content-length': String(left * CHUNK.length) });
  const write = (): void => {
    while (left > 0) {
      left--;
      if (!res.write(CHUNK)) return void res.once('drain', write);
    }
    res.end();
  };
  write();
}
