// A client that writes bytes as given (no HTTP library between the test and the gateway) and
// reads one answer: what hostile clients do, for tests of what the gateway answers them.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawAnswer {
  /** The status of the first response; 0 when the connection closed (or timed out) without one. */
  readonly status: number;
  /** The first response's head (status line and headers), '' without one. */
  readonly head: string;
  readonly body: string;
  /** The connection closed without any response. */
  readonly silent: boolean;
  /** Nothing came back and the connection stayed open past the bound. */
  readonly timedOut: boolean;
}

/**
 * Write `bytes` (latin1: one char, one byte) to `host:port` and read the first response
 * (its body by Content-Length), or until the connection closes, or `timeoutMs`.
 */
export function rawExchange(url: string, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? '' : text.slice(0, end);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m === null ? 0 : Number(m[1]), head, body: end < 0 ? '' : text.slice(end + 4), silent: data.length === 0 && !timedOut, timedOut: timedOut && data.length === 0 });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length !== null && data.length >= Buffer.byteLength(text.slice(0, end + 4), 'latin1') + Number(length[1])) finish(false);
    });
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/** A GET request's bytes for `target`, closing the connection after the answer. */
export const rawGet = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;

/**
 * Write `bytes` (then half-close, with `end`) and read everything until the gateway closes
 * the connection (or `timeoutMs`: then `open` is true).
 */
export function rawConversation(url: string, bytes: string, timeoutMs = 5_000, end = false): Promise<{ text: string; open: boolean }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, open: true });
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve({ text, open: false });
    };
    socket.setEncoding('latin1').on('data', (d: string) => (text += d));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(Buffer.from(bytes, 'latin1'));
    if (end) socket.end();
  });
}

/** A raw socket to the gateway: what it has been sent so far, and a promise of its close. */
export function rawSocket(url: string): { socket: Socket; text: () => string; closed: Promise<void> } {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('error', () => undefined);
  return { socket, text: () => text, closed };
}
