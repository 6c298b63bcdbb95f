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
 * did. Only the first request line of a connection is read here; on a Node whose internals
 * differ (no `_consumed`, no `consume`), the connection stays on the 'data' path, or the check
 * is skipped: never broken, at worst slower or not answered early.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

interface StreamHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
}

interface NativeParser {
  _consumed?: boolean;
  consume?: (handle: StreamHandle) => void;
}

const SP = 0x20;
const LF = 0x0a;

/**
 * Call `versionless(socket)` for a connection whose first line is `method SP target` and ends
 * there (CRLF or a bare LF). `maxBytes`: past this many bytes without a line end, stop looking.
 */
export function watchFirstLines(server: Server, maxBytes: number, versionless: (socket: Socket) => void): void {
  server.prependListener('connection', (socket: Socket) => {
    const handle = (socket as Socket & { _handle?: StreamHandle | null })._handle;
    if (handle?.isStreamBase !== true || handle._consumed === true) return;
    handle._consumed = true;
    let spaces = 0;
    let seen = 0;
    let leading = true;
    const done = (): void => {
      socket.off('data', onData);
      nativeAgain(socket, handle);
    };
    const onData = (chunk: Buffer): void => {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        // Empty lines before the request line are ignored by the parser (RFC 9112 section 2.2).
        if (leading && (b === LF || b === 0x0d)) continue;
        leading = false;
        if (b === SP) spaces++;
        else if (b === LF) {
          if (spaces !== 1) return done();
          socket.off('data', onData);
          return versionless(socket);
        }
      }
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    socket.on('data', onData);
  });
}

/** The native parser reads the rest of the connection (as node:http does when it can). */
function nativeAgain(socket: Socket, handle: StreamHandle): void {
  const parser = (socket as Socket & { parser?: NativeParser | null }).parser;
  if (socket.destroyed || parser === undefined || parser === null || typeof parser.consume !== 'function') return;
  parser._consumed = true;
  parser.consume(handle);
}
