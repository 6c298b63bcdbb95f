/**
 * An HTTP/0.9 request is its request line alone, `GET /\r\n`, with no version and no headers
 * after it: its client waits for the answer. llhttp reads such a line as the start of a
 * request whose headers are still to come, so node:http waited for `headersTimeout` and
 * answered 408 (hostile finding F6). The gateway reads the first line of every connection
 * itself and answers a line without a version at once: 505, counted as `bad_version`.
 *
 * How: node:http normally hands a connection's bytes straight to its native parser
 * ("consumes" the socket), where JavaScript never sees them. A `connection` listener that runs
 * before node:http's own marks the socket as consumed already, so node:http's parser reads it
 * through 'data' events; once the first line has been seen (or is longer than the head may
 * be), the native parser consumes the socket again — the rest of the connection costs what it
 * did. A first line that does not end within the bytes a whole head may take is marked: the
 * parser's overflow on it is the target's (414, client-errors.ts), not the headers'. Only the
 * first request line of a connection is read here; on a Node whose internals
 * differ (no `_consumed`, no `consume`), the connection stays on the 'data' path, or the check
 * is skipped: never broken, at worst slower or not answered early.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { followHeadLines } from './head-lines.js';
import type { HookableParser } from './head-lines.js';

interface StreamHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
}

interface NativeParser extends HookableParser {
  _consumed?: boolean;
  consume?: (handle: StreamHandle) => void;
}

const SP = 0x20;
const LF = 0x0a;
/** 1 for the bytes of an RFC 9110 token (a method). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** What the first line of a connection turned out to be. */
export interface FirstLineWatch {
  /** It is `method SP target` and ends there (CRLF or a bare LF): HTTP/0.9. */
  versionless(socket: Socket): void;
  /** It did not end within the bytes a whole head may take (the parser's overflow is the target's: 414). */
  tooLong(socket: Socket): void;
  /** The first bytes of the line a read left open inside a head, on any request of the connection; undefined once the head is complete (head-lines.ts). */
  headLine?(socket: Socket, line: Buffer | undefined): void;
}

/** Watch the first line of every connection; `maxBytes`: past this many bytes without a line end, stop looking. */
export function watchFirstLines(server: Server, maxBytes: number, watch: FirstLineWatch): void {
  server.prependListener('connection', (socket: Socket) => {
    const handle = (socket as Socket & { _handle?: StreamHandle | null })._handle;
    if (handle?.isStreamBase !== true || handle._consumed === true) return;
    handle._consumed = true;
    let spaces = 0;
    let seen = 0;
    let leading = true;
    const done = (chunk: Buffer): void => {
      socket.off('data', onData);
      const parser = nativeAgain(socket, handle);
      if (parser !== undefined && watch.headLine !== undefined) followHeadLines(socket, parser, chunk, watch.headLine.bind(watch), maxBytes);
    };
    const onData = (chunk: Buffer): void => {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        // Empty lines before the request line are ignored by the parser (RFC 9112 section 2.2).
        if (leading && (b === LF || b === 0x0d)) continue;
        leading = false;
        // A method that is no token (`GET<TAB>/x HTTP/1.1`) is the parser's 400, not a line without a version.
        if (spaces === 0 && b !== SP && TCHAR[b] !== 1) return done(chunk);
        if (b === SP) spaces++;
        else if (b === LF) {
          if (spaces !== 1) return done(chunk);
          socket.off('data', onData);
          return watch.versionless(socket);
        }
      }
      seen += chunk.length;
      if (seen <= maxBytes) return;
      // Seen before the parser reads this chunk (this listener comes first): its overflow finds the mark.
      watch.tooLong(socket);
      done(chunk);
    };
    socket.on('data', onData);
  });
}

/** The native parser reads the rest of the connection (as node:http does when it can). */
function nativeAgain(socket: Socket, handle: StreamHandle): NativeParser | undefined {
  const parser = (socket as Socket & { parser?: NativeParser | null }).parser;
  if (socket.destroyed || parser === undefined || parser === null || typeof parser.consume !== 'function') return undefined;
  parser._consumed = true;
  parser.consume(handle);
  return parser;
}
