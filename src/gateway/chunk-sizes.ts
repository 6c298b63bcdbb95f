/**
 * The sizes a chunked request body declares, as its chunk-size lines arrive, so that a body
 * declared over `maxBodySize` is refused 413 at once — as a Content-Length over it is, and as
 * nginx does (client_max_body_size) — not after `bodyTimeout` (hostile-5: `FFFFFFFFFFFFFFFF`,
 * 2^64 - 1 bytes, a size llhttp takes, was answered 408 after the client sent nothing more).
 * node:http's parser keeps chunk sizes to itself, so they are read here from the bytes.
 *
 * How: when a chunked request's head is complete (the `request` event, inside the parser's
 * run over the bytes of one read), that read (`parser.getCurrentBuffer()`) is searched for the
 * request's head — its request line, then a header line per header, names in order — and the
 * chunk framing after it is followed; when the body does not end in that read, the rest is
 * followed on the connection's 'data' events (node:http then feeds its parser from them, as
 * for a TLS socket), and the parser reads natively again once the body's framing has ended.
 * Where the head cannot be found with certainty, nothing is followed: the body is bounded as
 * it arrives, as before. Only what the parser accepts matters: a malformed line stops the
 * following (the parser's error answers it), and an overflowing size is the parser's 400.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

/** What a chunked body has declared so far; `onDeclared` hears each new chunk, the end of each chunk extension, and the end of each read. */
export interface ChunkSizes {
  /** The sum of the chunk sizes read so far (bytes; Infinity past 2^53). */
  declared: number;
  /** The chunks read so far, the last (size 0) not counted. */
  chunks: number;
  /**
   * Bytes of framing that carry nothing read so far — chunk extensions (after a size, up to its
   * line's CR) and zeros before a size's first significant digit: read, and never forwarded.
   */
  framing: number;
  onDeclared: (() => void) | undefined;
}

const kSizes = Symbol('sluice.gateway.chunkSizes');
type Watched = IncomingMessage & { [kSizes]?: ChunkSizes };

/** The chunk sizes followed for `req`; undefined when its body is not chunked or could not be followed. */
export function chunkSizesOf(req: IncomingMessage): ChunkSizes | undefined {
  return (req as Watched)[kSizes];
}

const CR = 0x0d;
const LF = 0x0a;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const VERSION = Buffer.from(' HTTP/1.', 'latin1');

type State = 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'lineStart' | 'trailer' | 'trailerLf' | 'endLf' | 'done';

/** The chunked framing of one body, followed byte by byte (RFC 9112 section 7.1). */
class ChunkFraming {
  state: State = 'size';
  #size = 0;
  #digits = 0;
  /** Digits from the first that is not 0. */
  #significant = 0;
  #left = 0;

  constructor(readonly sizes: ChunkSizes) {}

  /** Follow `buf` from `from`; the offset just past the body's end, or -1 when it goes on (or the framing broke: 'done'). */
  feed(buf: Buffer, from: number): number {
    let i = from;
    while (i < buf.length) {
      const b = buf[i]!;
      switch (this.state) {
        case 'size': {
          const d = hexValue(b);
          if (d >= 0) {
            this.#size = this.#size * 16 + d;
            this.#digits++;
            if (this.#size > 0) this.#significant++;
            // Zeros before the first significant digit (the last chunk's one `0` too): llhttp takes any number.
            else this.sizes.framing++;
            // Past 2^64 - 1 the parser refuses the size itself (400 bad_chunk): not followed.
            if (this.#significant > 16) return this.#broken();
            break;
          }
          if (this.#digits === 0) return this.#broken();
          this.#declare();
          if (b === CR) this.state = 'sizeLf';
          else if (b === 0x3b || b === 0x20 || b === 0x09) this.state = 'ext';
          else return this.#broken();
          break;
        }
        case 'ext': {
          // Up to the line's CR at once: an extension can be most of what a client sends (body-reader.ts bounds framing).
          const cr = buf.indexOf(CR, i);
          const end = cr < 0 ? buf.length : cr;
          this.sizes.framing += end - i;
          if (cr < 0) return this.#readEnd();
          this.state = 'sizeLf';
          this.sizes.onDeclared?.();
          i = cr + 1;
          continue;
        }
        case 'sizeLf':
          if (b !== LF) return this.#broken();
          this.state = this.#left === 0 ? 'lineStart' : 'data';
          break;
        case 'data': {
          const n = Math.min(this.#left, buf.length - i);
          this.#left -= n;
          i += n;
          if (this.#left === 0) this.state = 'dataCr';
          continue;
        }
        case 'dataCr':
          if (b !== CR) return this.#broken();
          this.state = 'dataLf';
          break;
        case 'dataLf':
          if (b !== LF) return this.#broken();
          this.state = 'size';
          break;
        case 'lineStart':
          // After the last chunk: trailer lines, then an empty line.
          this.state = b === CR ? 'endLf' : 'trailer';
          break;
        case 'trailer':
          if (b === CR) this.state = 'trailerLf';
          break;
        case 'trailerLf':
          if (b !== LF) return this.#broken();
          this.state = 'lineStart';
          break;
        case 'endLf':
          if (b !== LF) return this.#broken();
          this.state = 'done';
          return i + 1;
        case 'done':
          return i;
      }
      i++;
    }
    return this.#readEnd();
  }

  /** The read ended inside the body: what it declared is heard (a size line of zeros may span reads without end). */
  #readEnd(): number {
    this.sizes.onDeclared?.();
    return -1;
  }

  #declare(): void {
    this.#left = this.#size;
    const s = this.sizes;
    s.declared = this.#size > Number.MAX_SAFE_INTEGER || s.declared + this.#size > Number.MAX_SAFE_INTEGER ? Infinity : s.declared + this.#size;
    this.#size = 0;
    this.#digits = 0;
    this.#significant = 0;
    if (this.#left === 0) return;
    s.chunks++;
    s.onDeclared?.();
  }

  #broken(): number {
    this.state = 'done';
    return -1;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

interface StreamHandle {
  isStreamBase?: boolean;
}

interface NativeParser {
  getCurrentBuffer?: () => Buffer;
  consume?: (handle: StreamHandle) => void;
  unconsume?: () => void;
  _consumed?: boolean;
}

type ParsedSocket = Socket & { parser?: NativeParser | null; _handle?: StreamHandle | null };

/**
 * Hand the connection's reads to JavaScript ('data' events, which node:http's own listener
 * parses from), as node:http does when a 'data' listener is added — without the listener
 * wrapper, which would also drop node:http's pause handling for when the parser reads natively again.
 */
function readInJs(socket: ParsedSocket, onData: (chunk: Buffer) => void): boolean {
  const parser = socket.parser;
  if (parser === undefined || parser === null || typeof parser.unconsume !== 'function' || typeof parser.consume !== 'function') return false;
  if (parser._consumed === true) parser.unconsume();
  parser._consumed = false;
  (Socket.prototype.on as (this: Socket, event: 'data', listener: (chunk: Buffer) => void) => Socket).call(socket, 'data', onData);
  return true;
}

/**
 * The parser reads natively again (as node:http set it up): only from a 'data' event (node:http's
 * listener has parsed the chunk) of a flowing socket with nothing buffered, so that no read can
 * reach the parser out of order.
 */
function readNatively(socket: ParsedSocket, onData: (chunk: Buffer) => void): void {
  socket.off('data', onData);
  const parser = socket.parser;
  const handle = socket._handle;
  if (socket.destroyed || parser === undefined || parser === null || handle?.isStreamBase !== true || parser._consumed === true) return;
  if (socket.readableFlowing !== true || socket.readableLength !== 0) return;
  parser._consumed = true;
  parser.consume!(handle);
}

/** The read a connection's parser is running over (now), and where the last body followed in it ended. */
const lastEnds = new WeakMap<Socket, { readonly buf: Buffer; readonly end: number }>();

/**
 * Follow the chunk sizes of `req` (call in its `request` event, synchronously: the parser is
 * still inside the read that completed its head). Does nothing for a body that is not chunked.
 */
export function followChunkSizes(req: IncomingMessage): void {
  const te = req.headers['transfer-encoding'];
  if (te === undefined || !/(^|,)\s*chunked\s*$/i.test(te)) return;
  const socket = req.socket as ParsedSocket;
  const parser = socket.parser;
  if (typeof parser?.getCurrentBuffer !== 'function') return;
  // A body followed to its end earlier in this same read (the entry lives for this read's
  // parse only): this head comes after it. One copy of a read, however many requests it holds.
  const last = lastEnds.get(socket);
  const buf = last?.buf ?? parser.getCurrentBuffer();
  const from = last?.end ?? 0;
  const start = bodyStart(buf, from, req);
  if (start === undefined) return;
  const sizes: ChunkSizes = { declared: 0, chunks: 0, framing: 0, onDeclared: undefined };
  (req as Watched)[kSizes] = sizes;
  const framing = new ChunkFraming(sizes);
  const end = framing.feed(buf, start);
  if (end >= 0) {
    // For a request pipelined behind this one in the same read (its head is after this end).
    // Kept for this read's run of the parser only: not a copy of a read per idle connection.
    if (last === undefined) process.nextTick(() => lastEnds.delete(socket));
    lastEnds.set(socket, { buf, end });
    return;
  }
  if (framing.state === 'done') return;
  let inJs = false;
  const onData = (chunk: Buffer): void => {
    if (framing.feed(chunk, 0) >= 0 || framing.state === 'done') stop();
  };
  const stop = (): void => {
    req.off('end', stop);
    req.off('close', stop);
    if (inJs) readNatively(socket, onData);
    inJs = false;
  };
  req.once('end', stop);
  req.once('close', stop);
  // After this read's run of the parser (never from inside it): the next reads come through
  // 'data' until the body's framing ends, then the parser reads natively again.
  process.nextTick(() => {
    if (framing.state !== 'done' && !req.complete && !socket.destroyed) inJs = readInJs(socket, onData);
  });
}

/**
 * Where `req`'s body begins in `buf`, searching from `from`: just past its head, found by its
 * target and version and its header names in order; or, when the request line began in an earlier
 * read, past the first CRLF CRLF. Undefined when that is not certain.
 */
function bodyStart(buf: Buffer, from: number, req: IncomingMessage): number | undefined {
  // The target and the version (the parser takes more than one space after the method).
  const line = Buffer.from(` ${req.url ?? ''} HTTP/1.`, 'latin1');
  let at = buf.indexOf(line, from);
  if (at < 0) {
    // The head began in an earlier read: this one begins inside it, past its request line. One
    // with a version before its first CRLF CRLF holds another request line (an earlier request's).
    if (from > 0) return undefined;
    let start = 0;
    if (buf[0] === CR || buf[0] === LF) {
      // It may begin inside the head's last CRLF CRLF (a client that splits its head there).
      const run = lineEnds(buf);
      if (run === undefined) return undefined;
      if (run.ends || chunkSizeLine(buf, run.length)) return run.length;
      // The line ends closed a header line, and more headers follow.
      start = run.length;
    }
    const end = buf.indexOf(HEAD_END, start);
    return end < 0 || buf.subarray(0, end).includes(VERSION) ? undefined : end + 4;
  }
  while (at >= 0) {
    const end = buf.indexOf(HEAD_END, at);
    if (end < 0) return undefined;
    if (headMatches(buf.subarray(at, end).toString('latin1'), req.rawHeaders)) return end + 4;
    at = buf.indexOf(line, at + 1);
  }
  return undefined;
}

/**
 * The CR and LF bytes a read begins with, when they can be the end of a head's last CRLF CRLF
 * (until hostile-12 such a read was not followed: a head split there took the body past every
 * check of its chunk sizes). `ends`: they must end the head (3 or 4 of them); 1 or 2 may also
 * close a header line, which chunkSizeLine tells apart. Undefined for any other run.
 */
function lineEnds(buf: Buffer): { readonly length: number; readonly ends: boolean } | undefined {
  let n = 0;
  while (n < buf.length && n < 5 && (buf[n] === CR || buf[n] === LF)) n++;
  const run = buf.subarray(0, n).toString('latin1');
  if (!HEAD_END.toString('latin1').endsWith(run)) return undefined;
  return { length: n, ends: n >= 3 };
}

/**
 * Whether `buf` goes on at `at` as a chunked body, not as a header line: hex digits up to the
 * read's end (or none left), or hex digits then CR, `;` or whitespace — which no header line
 * has (a name is a token, then a colon; and a head complete in this read cannot end it).
 */
function chunkSizeLine(buf: Buffer, at: number): boolean {
  let i = at;
  while (i < buf.length && hexValue(buf[i]!) >= 0) i++;
  if (i === buf.length) return true;
  const b = buf[i]!;
  return i > at && (b === CR || b === 0x3b || b === 0x20 || b === 0x09);
}

/** `head` (request line and header lines) has `rawHeaders`' names, in order. */
function headMatches(head: string, rawHeaders: readonly string[]): boolean {
  const lines = head.split('\r\n');
  if (lines.length - 1 !== rawHeaders.length / 2) return false;
  for (let i = 1; i < lines.length; i++) if (!lines[i]!.startsWith(`${rawHeaders[(i - 1) * 2]!}:`)) return false;
  return true;
}
