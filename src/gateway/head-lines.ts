/**
 * Which line of a head a header overflow is in, when that line began in an earlier read
 * (hostile-6): node:http reports a target over maxHeaderSize and a header over it alike
 * (HPE_HEADER_OVERFLOW), and the read it fails in (its rawPacket) holds no line start when the
 * line is longer than a read (64 kB) or arrives in pieces. client-errors.ts tells them apart
 * by the line's first bytes; this keeps those bytes, per connection, across the reads of a head.
 *
 * How: on a connection its native parser reads (versionless-requests.ts), the parser calls
 * back at each message's start (kOnMessageBegin) and after each read (kOnExecute, when its
 * buffer is still readable); node:http's onIncoming is called when a head is complete. Only a
 * read that ends inside a head is looked at: its last line's first bytes are kept (a copy of at
 * most LINE_START bytes). A read that completes its heads costs a flag test. On a Node whose
 * parser lacks these hooks nothing is kept, and a line that began in an earlier read is judged
 * as before (a header: 431).
 *
 * The same reads hold a head to maxHeaderSize as sent (review22): node:http counts the target,
 * names and values only, and the gateway's check (message-checks.ts headBytes) the head as
 * forwarded, so whitespace before a value counted nowhere — 1,500 lines of 10,000 spaces, a 15 MB
 * head, passed a 16 kB limit. A read that ends inside a head that began in an earlier read is head
 * from end to end: once such reads pass maxHeaderSize, the read fails as llhttp's own overflow
 * does (HPE_HEADER_OVERFLOW, answered 431 in turn by client-errors.ts), and so does every later
 * one; the parser, which has not failed, hands no more of the connection's requests on. The
 * read the head began in is not counted (it may hold the message before): a head passes
 * maxHeaderSize by one read at most.
 */
import type { Socket } from 'node:net';

/** Enough of a line to see whether it starts with a method and a space. */
export const LINE_START = 64;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

export interface HookableParser {
  constructor: { kOnMessageBegin?: unknown; kOnExecute?: unknown };
  onIncoming?: unknown;
  getCurrentBuffer?: () => Buffer;
  [hook: number]: unknown;
}

/** The first bytes of the line a read leaves open, from the line's start as far as known (`prev`) and the read. */
export function carryLine(prev: Buffer | undefined, read: Buffer): Buffer | undefined {
  const lf = read.lastIndexOf(LF);
  if (lf >= 0) return Buffer.from(read.subarray(lf + 1, lf + 1 + LINE_START));
  if (prev === undefined || prev.length >= LINE_START) return prev;
  return Buffer.concat([prev, read.subarray(0, LINE_START - prev.length)]);
}

/**
 * Keep, for `socket`, the first bytes of the line its current head is in whenever a read ends
 * inside a head (`keep(socket, line)`; undefined once that head is complete). `chunk`: the read
 * in which the native parser takes over (node:http parses it on the 'data' path, just after).
 */
export function followHeadLines(socket: Socket, parser: HookableParser, chunk: Buffer, keep: (socket: Socket, line: Buffer | undefined) => void, maxHeaderSize = Infinity): void {
  const begin = parser.constructor.kOnMessageBegin;
  const execute = parser.constructor.kOnExecute;
  const incoming = parser.onIncoming;
  const afterRead = typeof execute === 'number' ? parser[execute] : undefined;
  if (typeof begin !== 'number' || typeof execute !== 'number' || typeof incoming !== 'function' || typeof afterRead !== 'function' || typeof parser.getCurrentBuffer !== 'function') return;
  const current = parser.getCurrentBuffer.bind(parser);
  // The first head is under way (its request line is in `chunk`, or before it).
  let inHead = true;
  let carried: Buffer | undefined;
  let kept = false;
  const update = (read: Buffer): void => {
    carried = carryLine(carried, read);
    kept = true;
    keep(socket, carried);
  };
  // Bytes of the reads wholly inside the current head (the one it began in not counted).
  let sent = 0;
  let beganInRead = false;
  let overflow: Error | undefined;
  parser[begin] = (): void => {
    inHead = true;
    carried = EMPTY;
    sent = 0;
    beganInRead = true;
  };
  parser.onIncoming = (...args: unknown[]): unknown => {
    inHead = false;
    if (kept) keep(socket, undefined);
    kept = false;
    // Past an overflow the connection is answered and closing: no request of it is served.
    if (overflow !== undefined) return 0;
    return (incoming as (...a: unknown[]) => unknown)(...args);
  };
  parser[execute] = (ret: unknown): unknown => {
    if (overflow !== undefined) return (afterRead as (r: unknown) => unknown)(overflow);
    // An error's read is judged from its own bytes and what was kept before it.
    if (inHead && typeof ret === 'number') {
      const read = current();
      update(read);
      if (beganInRead) beganInRead = false;
      else if ((sent += read.length) > maxHeaderSize) {
        overflow = Object.assign(new Error('Parse Error: Header overflow'), { code: 'HPE_HEADER_OVERFLOW', reason: 'Header overflow', bytesParsed: read.length });
        return (afterRead as (r: unknown) => unknown)(overflow);
      }
    }
    return (afterRead as (r: unknown) => unknown)(ret);
  };
  // `chunk` is parsed once this 'data' event's listeners have run, before any other read.
  queueMicrotask(() => {
    if (inHead && !socket.destroyed) update(chunk);
  });
}
