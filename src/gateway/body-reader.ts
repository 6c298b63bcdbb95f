/**
 * A request body is read whole, into memory, before the request asks for admission: a slot
 * is for upstream work, so a client that uploads at 1 byte/s must hold nothing but its own
 * connection. Three bounds keep that safe:
 * - size: a declared Content-Length over the route's `maxBodySize` is 413 at once, and a
 *   chunked body as soon as its chunk sizes declare more (chunk-sizes.ts) or its bytes go
 *   over — before a byte reaches the upstream;
 * - time: the whole body must arrive within `server.bodyTimeout` of the headers, else 408
 *   and the connection is closed (the request was never admitted);
 * - memory: every body held at once counts against `server.bodyMemory`, as its bytes arrive;
 *   a body that does not fit is 503 + Retry-After — a declared length that does not fit in
 *   what is free is refused at once — so a thousand uploaders cannot take the gateway's
 *   memory. A declared length is not taken before its bytes come (hostile finding F28): 26
 *   clients declaring 10 MB and sending nothing held the whole default budget, and every
 *   other upload was refused, for bodyTimeout at a time.
 * A client that goes away (or whose body breaks the parser: client-errors.ts answers it)
 * ends the read with nothing written here, and so does an answer written meanwhile by
 * someone else (a drain's deadline: crash-answers.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chunkSizesOf } from './chunk-sizes.js';
import type { Hold, MemoryBudget } from './memory-budget.js';
import { closeIfTrailersSay } from './trailer-close.js';

export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly memory: MemoryBudget;
}

/** A body read whole: its bytes (null: the request has none) and the memory they hold until released. */
export interface RequestBody {
  readonly bytes: Buffer | null;
  readonly hold: Hold | undefined;
}

export interface BodyRefusal {
  readonly status: 400 | 408 | 413 | 503;
  readonly reason: 'body_timeout' | 'body_too_large' | 'body_memory_full' | 'body_chunks_too_small' | 'chunk_framing_too_large';
  readonly detail: string;
}

/**
 * Each chunk of a chunked body costs the gateway a callback and a buffer (about 1.5 µs)
 * whatever its size: a body in 1-byte chunks cost 1.5 s of CPU per megabyte, 7 MB on the
 * wire written at once (hostile-5). Past CHUNKS_CHECKED_AFTER chunks, a body whose chunks
 * average under MIN_CHUNK_BYTES is refused 400; chunks of a line each (100 bytes and more)
 * pass. A Content-Length body is not judged so: its pieces are the client's own writes.
 */
export const CHUNKS_CHECKED_AFTER = 1024;
export const MIN_CHUNK_BYTES = 16;

/**
 * Chunk extensions and zeros before a chunk size are read and dropped (the body goes upstream
 * with its Content-Length), and maxBodySize does not count them: node:http bounds extensions
 * per chunk (16 kB), not per body, and zeros not at all, so a body of 16-byte chunks each under
 * 16 kB of extension, or of zeros, was read for all of bodyTimeout, as fast as the client sent,
 * and never refused (hostile-12). They may add up to this beyond the body's declared size; more is 413.
 */
export const FRAMING_ALLOWANCE = 16 * 1024;

/** What came of reading: the body, a refusal to write, or nothing to do (the client is gone). */
export type BodyOutcome = { readonly type: 'read'; readonly body: RequestBody } | { readonly type: 'refused'; readonly refusal: BodyRefusal } | { readonly type: 'gone' };

const NO_BODY: BodyOutcome = { type: 'read', body: { bytes: null, hold: undefined } };

/** Whether a request has a body (RFC 9112 section 6.3: Transfer-Encoding, or a Content-Length other than 0). */
export function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && Number(cl) !== 0;
}

/**
 * Whether an answer written before `req`'s body is read (404 no_route, OPTIONS *) must close the
 * connection. Kept alive, node:http reads and drops the rest of the body to reach the next
 * request, with no bound of its own: a POST to no route declaring 100 GB was read at the
 * client's pace until requestTimeout, most of a core on one connection (hostile-12). A declared
 * length within `maxBytes` is read so (the connection is kept); a larger one, or a chunked body, closes it.
 */
export function unreadBodyCloses(req: IncomingMessage, maxBytes: number): boolean {
  if (req.complete || !hasBody(req)) return false;
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || cl === undefined || Number(cl) > maxBytes;
}

function tooLarge(max: number): BodyOutcome {
  return { type: 'refused', refusal: { status: 413, reason: 'body_too_large', detail: `The request body is larger than ${max} bytes.` } };
}

const chunksTooSmall: BodyOutcome = {
  type: 'refused',
  refusal: {
    status: 400,
    reason: 'body_chunks_too_small',
    detail: `The request body comes in chunks averaging under ${MIN_CHUNK_BYTES} bytes over more than ${CHUNKS_CHECKED_AFTER} chunks: each costs the gateway more than its bytes.`,
  },
};

const framingTooLarge = (framing: number): BodyOutcome => ({
  type: 'refused',
  refusal: {
    status: 413,
    reason: 'chunk_framing_too_large',
    detail: `The chunked framing of the request body (chunk extensions and zeros before chunk sizes: ${framing} bytes so far) is larger than its data by more than ${FRAMING_ALLOWANCE} bytes.`,
  },
});

const memoryFull: BodyOutcome = {
  type: 'refused',
  refusal: { status: 503, reason: 'body_memory_full', detail: 'The gateway holds as many request bodies as its memory allows; retry shortly.' },
};

/** A body whose headers passed its checks (declared size, room for it now), not read yet. */
export interface BodyReservation {
  readonly type: 'reserved';
  readonly declared: number | undefined;
  readonly hold: Hold;
}

/**
 * What a body's headers allow to be decided before a byte of it is read: a declared length
 * over the limit (413), or one the memory budget has no room for now (503). Otherwise its
 * bytes are held as they arrive (nothing is taken for a length only declared) until the
 * read ends. For a request that said `Expect: 100-continue`, this comes before its admission.
 */
export function reserveBody(req: IncomingMessage, limits: BodyLimits): BodyReservation | BodyOutcome {
  if (!hasBody(req)) return NO_BODY;
  const cl = req.headers['content-length'];
  // message-checks.ts refused a malformed or conflicting Content-Length already; chunked has none.
  const declared = cl === undefined || req.headers['transfer-encoding'] !== undefined ? undefined : Number(cl);
  if (declared !== undefined && declared > limits.maxBytes) return tooLarge(limits.maxBytes);
  // Chunk sizes already read (sent with the head, not waiting for 100 Continue) are declared too.
  if ((chunkSizesOf(req)?.declared ?? 0) > limits.maxBytes) return tooLarge(limits.maxBytes);
  if (declared !== undefined && limits.memory.used + declared > limits.memory.capacity) return memoryFull;
  return { type: 'reserved', declared, hold: limits.memory.hold() };
}

/**
 * Read `req`'s body within `limits`, then call `done` once: synchronously for a request
 * without a body or with a declared length over the limit, later otherwise. `reserved`: what
 * reserveBody answered for it already (the checks are not made twice). The read ends ('gone')
 * when `res` closes first: node:http forgets a request once its response has finished, and
 * never tells it of its socket's close after that — a drain's 503 to an upload still arriving
 * left the read's timer holding the process, and its bytes `bodyMemory`, for all of
 * bodyTimeout (hostile-13).
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  done: (outcome: BodyOutcome) => void,
  reserved: BodyReservation | BodyOutcome = reserveBody(req, limits),
): void {
  if (reserved.type !== 'reserved') return done(reserved);
  const { hold } = reserved;
  // A chunked body's declared sizes, where they could be followed (chunk-sizes.ts): over the limit is 413 at once.
  const sizes = chunkSizesOf(req);
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const finish = (outcome: BodyOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    res.off('close', onClose);
    if (sizes !== undefined) sizes.onDeclared = undefined;
    if (outcome.type !== 'read') {
      hold.release();
      chunks.length = 0;
      // What the client still sends is read and dropped until the refusal closes the connection.
      if (outcome.type === 'refused') req.resume();
    }
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
    if (!hold.take(chunk.length)) return finish(memoryFull);
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    closeIfTrailersSay(req, res);
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    finish({ type: 'read', body: { bytes, hold } });
  };
  const onClose = (): void => finish({ type: 'gone' });
  const timer = setTimeout(
    () => finish({ type: 'refused', refusal: { status: 408, reason: 'body_timeout', detail: `The request body did not arrive within ${limits.timeoutMs} ms.` } }),
    limits.timeoutMs,
  );
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
  res.on('close', onClose);
  if (sizes === undefined) return;
  sizes.onDeclared = () => {
    if (sizes.declared > limits.maxBytes) finish(tooLarge(limits.maxBytes));
    else if (sizes.chunks > CHUNKS_CHECKED_AFTER && sizes.declared < sizes.chunks * MIN_CHUNK_BYTES) finish(chunksTooSmall);
    else if (sizes.framing > sizes.declared + FRAMING_ALLOWANCE) finish(framingTooLarge(sizes.framing));
  };
  sizes.onDeclared();
}
