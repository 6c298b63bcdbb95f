/**
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
    res.once('close', this.#forget);
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
