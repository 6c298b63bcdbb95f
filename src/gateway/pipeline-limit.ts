/**
 * One request at a time per connection. Node's HTTP server parses every request a client
 * pipelines as soon as its bytes arrive and pauses a connection only on its *outgoing*
 * backlog — and a proxied response is not written until the upstream answers. So a client
 * that writes thousands of pipelined requests and never reads had each one forwarded at
 * once (an exempt route has no limit to stop it): memory without bound, upstream work for a
 * client that left. Here a request waits until the one before it on its connection has
 * finished (responses must go out in that order anyway, as nginx serves pipelines), and
 * while any wait the connection is not read: what the client sends then stays in the
 * kernel's buffers and the TCP window closes on it. A request whose connection closed
 * while it waited is never forwarded.
 *
 * Except while the request being served waits for admission (a queue): then the connection is
 * read on until WATCH_BACKLOG wait behind it, so that its client's reset is seen and the queued
 * request leaves the queue (request-handler.ts; a FIN is a client still reading, and answered).
 * Not read, the reset stayed unseen behind the pipelined requests, and the queued one was
 * forwarded when a slot freed (hostile-6). The
 * bound stays one read's worth of requests beyond WATCH_BACKLOG.
 *
 * And since pipeline-feed.ts (`feedReads`), a read is parsed a request at a time: once
 * WATCH_BACKLOG wait, the rest of it is held unparsed and the connection not read, and #read
 * parses it when they have gone. Only a read the parser takes natively is still parsed whole.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listHas } from './header-lists.js';
import { PipelineFeed } from './pipeline-feed.js';
import { handleOf } from './refusal-pacer.js';
import type { RefusalPacer } from './refusal-pacer.js';

/** While the request being served waits for admission, the connection is read until this many wait behind it. */
export const WATCH_BACKLOG = 16;

/**
 * Requests parsed and waiting behind another, all connections together, past which a connection
 * with WATCH_BACKLOG or more waiting already is closed at its next parsed request: its requests
 * (the one being served too) go unanswered, as RFC 9112 section 9.3.2 lets a server do to a
 * pipelining client, who retries them. Each waiting request holds ~1.5 kB of heap (node's request
 * and response objects), and one read parses some 2,200 small GETs at once: 261 connections that
 * never read a 50 MB response, each pipelining 64 kB of GETs, took RSS from 295 to 1,522 MB
 * (hostile-18), and maxConnections 10,000 of them could hold ~33 GB. Now the waiting ones hold
 * ~30 MB at most, plus one read's worth on the connection being closed. A client pipelining
 * no deeper than WATCH_BACKLOG is never closed for it.
 */
export const MAX_WAITING = 20_000;

interface Line {
  readonly limit: PipelineLimit;
  readonly socket: Socket;
  busy: boolean;
  /** A response said Connection: close: the requests still waiting are not served (the connection closes). */
  closing: boolean;
  /** This limit stopped reading the connection (and must start it again). */
  stopped: boolean;
  /** The request being served waits for admission: its client's reset is to be seen. */
  admitting: boolean;
  /** Each waiting request's turn: it starts (true), or declines because it has nothing to forward (false). */
  readonly waiting: (() => boolean)[];
  /** The response of the last request parsed on the connection (served or waiting). */
  last: ServerResponse | undefined;
  /** Requests parsed on the connection so far. */
  parsed: number;
  /** The response being served now (busy), and the lines serving one before and after this one in its limit's list. */
  serving: ServerResponse | undefined;
  prev: Line | undefined;
  next: Line | undefined;
}

/** What runs a request once it may: given the request and its response, so that one function serves every request (no closure each). */
export type PipelineHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The line of the connection a response being served is on (read by the shared 'close' listener). */
const kLine = Symbol('sluice.pipeline.line');
type Served = ServerResponse & { [kLine]?: Line | undefined };

/**
 * The one 'close' listener of every response served (`this` is the response): no closure per
 * request. A response closes once (node:http guards it), so `on`, not `once` (whose wrapper and
 * removal cost every request); a second call finds its line gone anyway.
 */
function onServedClose(this: Served): void {
  const l = this[kLine];
  if (l === undefined) return;
  this[kLine] = undefined;
  l.limit.closed(this, l);
}

export class PipelineLimit {
  readonly #lines = new WeakMap<Socket, Line>();
  /**
   * The lines serving a response now, linked through their own prev/next: no allocation and no
   * hashing per request. A Set of the responses took an add and a delete per request, and with
   * so few in it at once (a refusal is answered within its turn) V8 grew a new table for it every
   * few requests, a runtime call and an allocation each (perf record under bench:refusal's load).
   */
  #first: Line | undefined;
  readonly #pacer: RefusalPacer | undefined;
  /** Requests waiting behind another on their connection, now. */
  waiting = 0;
  /** Requests that waited so far. */
  waited = 0;

  readonly #onCut: (() => void) | undefined;
  /** Holds the unparsed rest of a read while WATCH_BACKLOG wait (pipeline-feed.ts), once `feedReads` is called. */
  #feed: PipelineFeed | undefined;
  /** Waiting responses answered at their turn by these instead of their request's handling (answerAtTurn). */
  readonly #instead = new WeakMap<ServerResponse, () => void>();

  /**
   * `pacer`: the refusal pacer that may hold the same connections (its pause is left to it);
   * `onCut`: told each time a connection is closed for pipelining past MAX_WAITING.
   */
  constructor(pacer?: RefusalPacer, onCut?: () => void) {
    this.#pacer = pacer;
    this.#onCut = onCut;
  }

  /**
   * Feed `server`'s reads to its parser a request at a time while WATCH_BACKLOG wait on a
   * connection (pipeline-feed.ts); `onHeld`: told each time a read's rest is held unparsed.
   */
  feedReads(server: Server, onHeld: () => void): void {
    this.#feed = new PipelineFeed(this, WATCH_BACKLOG, onHeld);
    this.#feed.attach(server);
  }

  /** Connections whose reads' rest is held unparsed now. */
  get holding(): number {
    return this.#feed?.holding ?? 0;
  }

  /** Run `handle(req, res)` now, or once the requests before it on its connection have finished. */
  run(req: IncomingMessage, res: ServerResponse, handle: PipelineHandler): void {
    const socket = req.socket;
    let line = this.#lines.get(socket);
    if (line === undefined) this.#lines.set(socket, (line = { limit: this, socket, busy: false, closing: false, stopped: false, admitting: false, waiting: [], last: undefined, parsed: 0, serving: undefined, prev: undefined, next: undefined }));
    const l = line;
    l.last = res;
    l.parsed++;
    if (!l.busy) {
      this.#start(l, res);
      return handle(req, res);
    }
    // Closed: by MAX_WAITING below, for the rest of the read it was in (node parses a read whole).
    if (socket.destroyed) return;
    if (this.waiting >= MAX_WAITING && l.waiting.length >= WATCH_BACKLOG) {
      this.#onCut?.();
      socket.destroy();
      return;
    }
    this.waiting++;
    this.waited++;
    const h = handleOf(socket);
    if (h !== undefined && !(l.admitting && l.waiting.length < WATCH_BACKLOG)) {
      h.readStop();
      l.stopped = true;
    }
    l.waiting.push(() => {
      this.waiting--;
      // Its client left while it waited (the socket closed), or a response before it closes the connection: nothing to forward.
      if (res.destroyed || socket.destroyed || l.closing) return false;
      const instead = this.#instead.get(res);
      if (instead !== undefined) {
        this.#start(l, res);
        instead();
        return true;
      }
      // Its turn. With none parsed behind it, the connection is read again, for the rest of its
      // body (body-reader.ts reads it before admission); a request pipelined behind it stops the
      // reading again. With some, its body is in already (the parser reached them after it), and
      // reading again would parse another read's worth of requests at every turn: a non-reader
      // pipelining 100,000 had 14,000 parsed and waiting after 4 s (hostile-2 P2).
      if (l.waiting.length === 0) this.#read(socket, l);
      this.#start(l, res);
      handle(req, res);
      return true;
    });
  }

  /**
   * The request being served on `socket` waits for admission (`waiting`), or no longer does:
   * while it waits, the connection is read (bounded: WATCH_BACKLOG) so that a reset is seen.
   */
  admitting(socket: Socket, waiting: boolean): void {
    const l = this.#lines.get(socket);
    if (l === undefined || !l.busy) return;
    l.admitting = waiting;
    if (waiting && l.waiting.length < WATCH_BACKLOG) this.#read(socket, l);
  }

  #start(l: Line, res: Served): void {
    l.busy = true;
    l.admitting = false;
    if (l.serving !== undefined) this.#unlink(l);
    l.serving = res;
    l.next = this.#first;
    if (this.#first !== undefined) this.#first.prev = l;
    this.#first = l;
    res[kLine] = l;
    res.on('close', onServedClose);
  }

  /** A response served on line `l` closed (onServedClose): the next request on its connection may go. */
  closed(res: ServerResponse, l: Line): void {
    if (l.serving === res) this.#unlink(l);
    // Not held past its close: an idle kept-alive connection would keep its last request and response alive.
    if (l.last === res) l.last = undefined;
    // A Connection: close header set by the gateway (a refusal) leaves shouldKeepAlive true: node
    // marks such a response its connection's last internally. Missed, the next request waiting
    // was handled on a connection that was closing — its response never went out nor closed, so
    // the line stayed busy and the requests behind it counted in `waiting` for ever (red21).
    if (!res.shouldKeepAlive || listHas(String(res.getHeader('connection') ?? ''), 'close')) l.closing = true;
    this.#next(l.socket, l);
  }

  /** Take a line that serves a response out of the list. */
  #unlink(l: Line): void {
    l.serving = undefined;
    if (l.prev === undefined) this.#first = l.next;
    else l.prev.next = l.next;
    if (l.next !== undefined) l.next.prev = l.prev;
    l.prev = l.next = undefined;
  }

  /**
   * Drain: every response being served whose head has not gone out says Connection: close, and
   * its connection closes after it (hostile finding F26). Left keep-alive, it would go idle and be
   * closed by the drain's sweep of idle connections — racing the client's next request.
   */
  closeAfterCurrent(): void {
    for (let l = this.#first; l !== undefined; l = l.next) if (l.serving !== undefined && !l.serving.headersSent) l.serving.shouldKeepAlive = false;
  }

  /** The responses being served now (one per connection at most; not those waiting behind them). */
  serving(): ServerResponse[] {
    const out: ServerResponse[] = [];
    for (let l = this.#first; l !== undefined; l = l.next) if (l.serving !== undefined) out.push(l.serving);
    return out;
  }

  /**
   * At its turn, `res` (a request waiting behind another) is answered by `answer` instead of
   * being handled — a body that broke the parser while its request waited (client-errors.ts):
   * the requests before it are served first, and its answer takes its own place in the order the
   * client matches answers by. False when it is not waiting (being served, or not on a line).
   */
  answerAtTurn(res: ServerResponse, answer: () => void): boolean {
    const l = this.#lines.get(res.req.socket);
    if (l === undefined || !l.busy || l.serving === res || res.destroyed) return false;
    this.#instead.set(res, answer);
    return true;
  }

  /** The response of the last request parsed on `socket`: the one being served, or the last waiting behind it. */
  lastResponse(socket: object): ServerResponse | undefined {
    return this.#lines.get(socket as Socket)?.last;
  }

  /** Whether `socket` is not read now: a request waits its turn on it, the pacer holds it (held-timeouts.ts), or bytes read are held unparsed. */
  holdsReading(socket: Socket): boolean {
    return this.#lines.get(socket)?.stopped === true || this.#pacer?.holds(socket) === true || this.#feed?.holds(socket) === true;
  }

  /** Requests parsed on `socket` so far. */
  parsedOn(socket: Socket): number {
    return this.#lines.get(socket)?.parsed ?? 0;
  }

  /** Requests parsed on `socket` and waiting behind the one being served. */
  backlog(socket: Socket): number {
    return this.#lines.get(socket)?.waiting.length ?? 0;
  }

  #next(socket: Socket, l: Line): void {
    l.busy = false;
    // A loop, not a call per declining request: thousands pipelined on a connection that then
    // closed would each add frames to one stack (a RangeError that killed the process: hostile-2 P1).
    for (let go = l.waiting.shift(); go !== undefined; go = l.waiting.shift()) if (go()) return;
    this.#read(socket, l);
  }

  #read(socket: Socket, l: Line): void {
    // Bytes held unparsed go to the parser first; the feed reads the connection again after them.
    // Not on a connection a response closes: node:http would parse them only for them to be declined.
    if (!l.closing && this.#feed?.resume(socket) === true) {
      l.stopped = false;
      return;
    }
    if (!l.stopped) return;
    l.stopped = false;
    if (!socket.destroyed && this.#pacer?.holds(socket) !== true) handleOf(socket)?.readStart();
  }
}
