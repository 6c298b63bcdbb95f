/**
 * node:http's headersTimeout and requestTimeout run from a message's first byte, whoever holds
 * the rest of it up. The gateway stops reading a connection while pipelined requests wait their
 * turn (pipeline-limit.ts) or a refusal's pause holds it (refusal-pacer.ts): a head cut by the end
 * of a read then stays half-parsed for as long as the requests before it take, and node:http
 * answered 408 for a request the client had sent whole at once — the requests behind it never
 * answered (10 pipelined 8 kB GETs to a 2 s upstream: 8 answered, then 408; session 18).
 *
 * Such a timeout is put off while the gateway holds the reading: checked again each headersTimeout,
 * it is dropped once a request is parsed on the connection (the head came in once read), and
 * answered as before once the connection has been read for a whole headersTimeout without one —
 * the client then stalled on its own. A timeout in the body of a request that waits its turn is
 * dropped: that body is read at its turn, within `server.bodyTimeout` (body-reader.ts), or the
 * connection closes after its answer. So is one in the body of a request whose client waits for
 * the 100 Continue the gateway sends only once it is admitted (expect-continue.ts): a queue's wait
 * may outlast requestTimeout, and the client, waiting as told, got 408; nor, once the 100 is sent,
 * does requestTimeout cut its body, read within bodyTimeout of the 100 (a wait of most of
 * requestTimeout left the client the rest of it: 408 once at load 45). (node:http checks a message
 * once: past its timeout it is no longer watched, so a timeout put off is the gateway's to answer.)
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bodyAfterContinue } from './expect-continue.js';

/** What the gateway knows of its own holds on a connection's reading (pipeline-limit.ts). */
export interface HeldReads {
  /** Whether the gateway does not read `socket` now (a pipelined request waits, or a refusal's pause). */
  holdsReading(socket: Duplex): boolean;
  /** Requests parsed on `socket` so far. */
  parsedOn(socket: Duplex): number;
}

/** Connections whose timeout is put off by a loop turn now. */
const putOff = new WeakSet<Duplex>();

/**
 * A request timeout on `socket`, which `answer` answers (the clientError path): put off or dropped
 * while the gateway holds its reading, else put off by one loop turn (dropped if a request is
 * parsed in it); true: nothing more to do now. `last`: the response of the last request parsed
 * on it; `recheckMs`: headersTimeout, ms.
 */
export function heldTimeout(socket: Duplex, reads: HeldReads, last: ServerResponse | undefined, recheckMs: number, answer: () => void): boolean {
  // Its body is asked for once it is admitted, then read within bodyTimeout of the 100 (however
  // much of requestTimeout the wait took); refused, the connection closes.
  if (last !== undefined && bodyAfterContinue(last)) return true;
  if (!reads.holdsReading(socket)) {
    // Answered a loop turn later, unless a request is parsed meanwhile: node checks the timeout in
    // its timers phase, before the poll phase reads what came, so a turn of the gateway's own
    // longer than headersTimeout (a busy host) timed out a head waiting whole in the kernel.
    // `answer` asks again (the clientError listener): then it is answered.
    if (putOff.delete(socket)) return false;
    putOff.add(socket);
    const before = reads.parsedOn(socket);
    setImmediate(() => {
      if (!socket.destroyed && reads.parsedOn(socket) === before) return answer();
      putOff.delete(socket);
    });
    return true;
  }
  // In the body of a request parsed and waiting: read at its turn, within bodyTimeout.
  if (last !== undefined && !last.req.complete) return true;
  const parsed = reads.parsedOn(socket);
  let readFor = 0;
  const check = (): void => {
    if (socket.destroyed || reads.parsedOn(socket) !== parsed) return;
    // Read since the last check and still no request: a whole headersTimeout of the client's own.
    readFor = reads.holdsReading(socket) ? 0 : readFor + 1;
    if (readFor >= 2) return answer();
    setTimeout(check, recheckMs).unref();
  };
  setTimeout(check, recheckMs).unref();
  return true;
}
