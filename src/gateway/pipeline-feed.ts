/**
 * A connection's reads go to node's parser a request at a time while it pipelines deep. node:http
 * parses a whole read at once — 64 kB, some 2,200 small GETs — and each parsed request costs JS
 * work and ~1.5 kB of heap even while it only waits its turn (pipeline-limit.ts), and an Error
 * with its stack when its connection closes unanswered (node's abortIncoming). 300 connections
 * writing pipelined GETs as fast as they could and never reading stalled the event loop for
 * 24 s at a stretch; an honest GET took 34 s (bench/pipeline-flood.ts). Here, on the 'data'
 * path, a read is cut after each complete head of a request without a body, and once
 * WATCH_BACKLOG requests wait on the connection the rest of the read is kept, unparsed, and the
 * connection is not read: the kernel's TCP window closes on the client. The kept bytes are parsed
 * when the requests waiting have been served (`resume`, from pipeline-limit.ts), in order, so
 * nothing a client sent is lost and responses go out in the order of the requests.
 *
 * Only a cut at a message boundary is safe: the bytes after it must start the next request. So
 * a head is cut after only when it began at a boundary (known from the connection's start and
 * each cut since); a Content-Length body is fed by its length; a head that names
 * Transfer-Encoding (whose chunk sizes chunk-sizes.ts follows over the whole read) makes the
 * rest of its read go to the parser whole, as node does, and the boundary is known again only
 * at a read that ends a complete request with CRLF CRLF.
 *
 * A connection is read natively by the parser (versionless-requests.ts), its bytes never seen in
 * JavaScript; once a read leaves WATCH_BACKLOG waiting it is handed to the 'data' path for good
 * (node's own unconsume), so that at most one read of a connection is parsed whole. Every other
 * connection keeps its native reads. On a Node whose internals differ (no bound socketOnData
 * listener found) nothing is cut: the connection is served as before.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Socket as NetSocket } from 'node:net';
import { handleOf } from './refusal-pacer.js';

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const TRANSFER_ENCODING = /transfer-encoding/i;
/** More head than any maxHeaderSize: the parser has refused it already; the boundary is left unknown. */
const MAX_HEAD_PART = 1 << 20;

/** What the feed asks of the pipeline limit about a connection. */
export interface FeedPipeline {
  /** Requests parsed on `socket` and waiting behind the one being served. */
  backlog(socket: Socket): number;
  /** Requests parsed on `socket` so far. */
  parsedOn(socket: Socket): number;
  /** The response of the last request parsed on `socket` (its `req` tells whether that request is complete). */
  lastResponse(socket: object): { readonly req?: { readonly complete: boolean; readonly headers: Record<string, string | string[] | undefined> } } | undefined;
  /** Whether something else (a request waiting, a refusal's pause) holds `socket` unread. */
  holdsReading(socket: Socket): boolean;
}

interface ParserLike {
  _consumed?: boolean;
  unconsume?: () => void;
  constructor: { kOnExecute?: unknown };
  [hook: number]: unknown;
}

type FedSocket = Socket & { parser?: ParserLike | null; _paused?: boolean };

interface Feed {
  readonly socket: FedSocket;
  readonly parser: ParserLike;
  readonly parse: (d: Buffer) => void;
  readonly end: () => void;
  /** Bytes read and not parsed yet (held while WATCH_BACKLOG wait), or undefined. */
  rest: Buffer | undefined;
  /** The connection ended (EOF) with bytes still held: node's end handling runs after them. */
  ended: boolean;
  /** The parser is at a message boundary, or inside a head that began at one (its bytes so far in `headPart`). */
  known: boolean;
  headPart: string;
  /** Bytes of a Content-Length body still to feed before the next boundary. */
  bodyLeft: number;
  scheduled: boolean;
}

const kFeed = Symbol('sluice.pipeline.feed');
type WithFeed = FedSocket & { [kFeed]?: Feed };

export class PipelineFeed {
  readonly #pipeline: FeedPipeline;
  readonly #depth: number;
  readonly #onHeld: () => void;
  /** Connections holding bytes unparsed now. */
  holding = 0;

  /** `depth`: waiting requests on a connection at which its reads are held; `onHeld`: told each time a read's rest is held. */
  constructor(pipeline: FeedPipeline, depth: number, onHeld: () => void) {
    this.#pipeline = pipeline;
    this.#depth = depth;
    this.#onHeld = onHeld;
  }

  /** Feed every connection of `server` through this (call after createServer: node's own 'connection' listener must run first). */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#wrap(socket as WithFeed));
  }

  #wrap(socket: WithFeed): void {
    const parser = socket.parser;
    if (parser === undefined || parser === null) return;
    const parse = socket.listeners('data').find((f) => f.name === 'bound socketOnData') as ((d: Buffer) => void) | undefined;
    const end = socket.listeners('end').find((f) => f.name === 'bound socketOnEnd') as (() => void) | undefined;
    if (parse === undefined || end === undefined) return;
    const f: Feed = { socket, parser, parse, end, rest: undefined, ended: false, known: true, headPart: '', bodyLeft: 0, scheduled: false };
    socket[kFeed] = f;
    // In place of node's own listeners (same order among the others); net's `on`, not node:http's
    // wrapper, which would hand the connection to the 'data' path for good at once.
    socket.removeListener('data', parse);
    socket.removeListener('end', end);
    const on = (event: string, listener: (...a: never[]) => void): unknown => (NetSocket.prototype.on as (this: Socket, e: string, l: (...a: never[]) => void) => Socket).call(socket, event, listener);
    on('data', (chunk: Buffer) => this.#onData(f, chunk));
    on('end', () => (f.rest === undefined ? end() : (f.ended = true)));
    // node:http's pause for its outgoing backlog ends with a resume: held bytes are parsed then.
    on('resume', () => this.#schedule(f));
    on('close', () => {
      if (f.rest === undefined) return;
      f.rest = undefined;
      this.holding--;
    });
    const kOnExecute = parser.constructor.kOnExecute;
    const afterRead = typeof kOnExecute === 'number' ? parser[kOnExecute] : undefined;
    if (typeof kOnExecute === 'number' && typeof afterRead === 'function') {
      parser[kOnExecute] = (ret: unknown): unknown => {
        const r = (afterRead as (x: unknown) => unknown)(ret);
        // A native read left the connection pipelining deep: its next reads come through 'data'.
        // Not from inside the parser's read (as chunk-sizes.ts); the boundary after it is not known.
        if (this.#pipeline.backlog(socket) >= this.#depth) {
          f.known = false;
          process.nextTick(() => this.#toJs(f));
        }
        return r;
      };
    }
  }

  /** The connection's reads come through 'data' from now on (node:http's own unconsume, less its pause listeners' removal). */
  #toJs(f: Feed): void {
    if (f.socket.destroyed || f.socket.parser !== f.parser || f.parser._consumed !== true || typeof f.parser.unconsume !== 'function') return;
    f.parser.unconsume();
    f.parser._consumed = false;
  }

  #onData(f: Feed, chunk: Buffer): void {
    if (f.rest !== undefined) {
      // Read while bytes were held (a pause ended, a resume): after them, in order.
      f.rest = Buffer.concat([f.rest, chunk]);
      this.#onHeld();
      this.#hold(f);
      return;
    }
    this.#pump(f, chunk, true);
  }

  /** Parse held bytes again, soon (not from inside a response's close, which runs the next request). */
  resume(socket: Socket): boolean {
    const f = (socket as WithFeed)[kFeed];
    if (f?.rest === undefined) return false;
    this.#schedule(f);
    return true;
  }

  /** Whether `socket` has bytes held unparsed. */
  holds(socket: Socket): boolean {
    return (socket as WithFeed)[kFeed]?.rest !== undefined;
  }

  #schedule(f: Feed): void {
    if (f.scheduled || f.rest === undefined) return;
    f.scheduled = true;
    queueMicrotask(() => {
      f.scheduled = false;
      const rest = f.rest;
      if (rest === undefined) return;
      f.rest = undefined;
      this.holding--;
      this.#pump(f, rest, false);
      if (f.rest !== undefined) return;
      if (f.ended) f.end();
      else if (!f.socket.destroyed && !this.#pipeline.holdsReading(f.socket)) handleOf(f.socket)?.readStart();
    });
  }

  /** Stop reading the connection while `f.rest` is held; a deep pipeliner's reads come through 'data' from now on. */
  #hold(f: Feed): void {
    handleOf(f.socket)?.readStop();
    if (f.parser._consumed === true) process.nextTick(() => this.#toJs(f));
  }

  /** Parse `buf` a request at a time; `fresh`: a read just made (its hold is counted), not bytes held before. */
  #pump(f: Feed, buf: Buffer, fresh: boolean): void {
    const s = f.socket;
    let pos = 0;
    while (pos < buf.length) {
      // Closed, or handed over (a CONNECT: node:http gives the socket away and frees its parser).
      if (s.destroyed || s.parser !== f.parser) return;
      const atBoundary = f.known && f.headPart === '' && f.bodyLeft === 0;
      if (s._paused === true || (atBoundary && this.#pipeline.backlog(s) >= this.#depth)) {
        f.rest = buf.subarray(pos);
        this.holding++;
        if (fresh) this.#onHeld();
        this.#hold(f);
        return;
      }
      if (!f.known) {
        f.parse(pos === 0 ? buf : buf.subarray(pos));
        this.#relearn(f, buf);
        return;
      }
      if (f.bodyLeft > 0) {
        const n = Math.min(f.bodyLeft, buf.length - pos);
        f.parse(buf.subarray(pos, pos + n));
        f.bodyLeft -= n;
        pos += n;
        continue;
      }
      const end = buf.indexOf(HEAD_END, pos);
      if (end < 0) {
        // A head that goes on in the next read.
        f.headPart += buf.toString('latin1', pos);
        if (f.headPart.length > MAX_HEAD_PART) f.known = false;
        f.parse(pos === 0 ? buf : buf.subarray(pos));
        return;
      }
      const head = f.headPart + buf.toString('latin1', pos, end);
      f.headPart = '';
      if (TRANSFER_ENCODING.test(head)) {
        // The rest of this read whole, as node parses it (chunk-sizes.ts follows the body over it).
        f.known = false;
        f.parse(pos === 0 ? buf : buf.subarray(pos));
        this.#relearn(f, buf);
        return;
      }
      const before = this.#pipeline.parsedOn(s);
      f.parse(buf.subarray(pos, end + 4));
      pos = end + 4;
      if (this.#pipeline.parsedOn(s) === before) continue; // empty lines before a request line, or an error (destroyed)
      const req = this.#pipeline.lastResponse(s)?.req;
      if (req === undefined || req.complete) continue;
      const cl = req.headers['content-length'];
      if (typeof cl === 'string' && /^\d{1,15}$/.test(cl)) f.bodyLeft = Number(cl);
      else f.known = false;
    }
  }

  /**
   * After a read parsed whole with the boundary unknown: it is known again when the read ends
   * with CRLF CRLF and the last request parsed is complete (a head cannot hold CRLF CRLF but at
   * its end, and a body that does leaves its request incomplete).
   */
  #relearn(f: Feed, buf: Buffer): void {
    if (buf.length < 4 || buf.indexOf(HEAD_END, buf.length - 4) < 0) return;
    const req = this.#pipeline.lastResponse(f.socket)?.req;
    if (req !== undefined && req.complete) {
      f.known = true;
      f.headPart = '';
      f.bodyLeft = 0;
    }
  }
}
