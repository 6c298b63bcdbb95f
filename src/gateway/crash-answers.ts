/**
 * What a gateway answers requests it cannot serve: at a drain's deadline, those the upstream
 * never got (`answerUnsent`); in a worker that crashes, all (`CrashAnswers`).
 *
 * What a worker that crashes (an uncaught exception) owes the clients it is serving: every
 * request it has not answered yet is answered 502 with `Connection: close` — one whose
 * response had begun can only be cut — the listener stops taking connections, and the
 * worker exits once those answers are written (or after `graceMs`). Its slots go back when
 * it exits (the primary drops its leases) and the primary forks it again. A worker killed
 * outright (SIGKILL, the OOM killer) answers nothing: the kernel closes its connections.
 */
import type { Server, ServerResponse } from 'node:http';
import { writeProblem } from './responses.js';

export class CrashAnswers {
  readonly #open = new Set<ServerResponse>();
  /** One 'close' listener for every response (`this` is the response): no closure per request. */
  readonly #forget: (this: ServerResponse) => void;
  #server: Server | undefined;

  constructor() {
    const open = this.#open;
    this.#forget = function (this: ServerResponse) {
      open.delete(this);
    };
  }

  /** The proxy listener: closed when the worker crashes. */
  attach(server: Server): void {
    this.#server = server;
  }

  /** A request arrived: it is owed an answer until its response closes. */
  track(res: ServerResponse): void {
    this.#open.add(res);
    // `on`, not `once` (a wrapper per request): a response closes once.
    res.on('close', this.#forget);
  }

  /** Requests not answered yet. */
  get open(): number {
    return this.#open.size;
  }

  /**
   * Answer every open request 502 (`Connection: close`), cut those whose response had begun,
   * stop listening; resolves when the answers are written, or after `graceMs`.
   */
  answerAll(graceMs: number): Promise<void> {
    this.#server?.close();
    this.#server?.closeIdleConnections();
    const written: Promise<void>[] = [];
    for (const res of this.#open) {
      if (res.writableEnded) continue;
      if (res.headersSent) {
        res.destroy();
        continue;
      }
      written.push(new Promise((resolve) => res.once('close', () => resolve())));
      writeProblem(res, 502, 'worker_failed', 'The gateway worker serving this request failed.', { Connection: 'close' });
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    timer?.unref();
    return Promise.race([Promise.all(written).then(() => undefined), late]).finally(() => clearTimeout(timer));
  }
}

/**
 * At a drain's deadline: every request of `open` (the responses being served: pipeline-limit.ts)
 * that the upstream never got (`sent(res)` false: its upload still arriving, say) and whose
 * response has not begun is answered 503 `draining` with `Retry-After` and `Connection: close`
 * — a retry is safe, nothing of it went upstream. (A request waiting its turn behind another
 * on its connection is not being served: it is cut with that connection.) Resolves once those
 * connections closed, or after `graceMs`: a connection closed at once with the client's bytes
 * unread would be reset, and a reset makes the client's kernel throw away the answer it had
 * not read yet.
 */
export function answerUnsent(open: Iterable<ServerResponse>, retryAfterS: number, sent: (res: ServerResponse) => boolean, graceMs: number): Promise<number> {
  const closed: Promise<void>[] = [];
  // A snapshot: an answer may close a response, and the next on its connection start, meanwhile.
  for (const res of [...open]) {
    if (res.headersSent || res.writableEnded || res.socket === null || sent(res)) continue;
    closed.push(new Promise((resolve) => res.once('close', () => resolve())));
    writeProblem(res, 503, 'draining', 'The gateway is shutting down: this request was not served. Retry it.', { 'Retry-After': String(retryAfterS), Connection: 'close' });
  }
  if (closed.length === 0) return Promise.resolve(0);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  return Promise.race([Promise.all(closed), late]).finally(() => clearTimeout(timer)).then(() => closed.length);
}
