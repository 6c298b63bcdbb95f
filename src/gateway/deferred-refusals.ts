/**
 * Admission refusals (429/503) written behind the loop turn's upstream requests (issue 9).
 *
 * A slot that frees in the poll phase (an upstream response read) goes to the next waiter at
 * once, but undici (7.30) writes a request it puts on a reused keep-alive connection only from
 * a setImmediate — its idle-socket check (GHSA-35p6-xmwp-9g52: bytes or a FIN already pending
 * on that socket are read first). So the request waits out the rest of the poll phase, which
 * in a retry storm is full of refusals, each with its write syscall (the largest single cost
 * of a refusal). Here a refusal decided in the turn is queued and written from a setImmediate
 * of its own, moved behind every upstream dispatch of the turn (`dispatched`: Immediates run
 * in the order they were set), so undici's writes of admitted requests go first, and the
 * poll phase they wait out no longer holds the refusals' writes.
 *
 * Every queued refusal is written in the same turn's check phase (a refusal queued during the
 * flush waits for the next turn's); one whose response closed meanwhile (its client left) is
 * skipped. Responses go out in order per connection anyway: the pipeline limit serves one
 * request per connection at a time (pipeline-limit.ts), the next one once this one closes.
 * A dispatch in a check phase would move the flush into the next turn, and dispatches turn after
 * turn could hold it: an Immediate set with the batch's first refusal marks the check phase's
 * start (`#checking`), and from then on the flush stays where it is.
 *
 * Only while `wanted()` (the loop is saturated, and by refusals: loop-saturation.ts, as for the
 * refusal pacer): with room on the loop a refusal is cheap, and is written at once.
 */
import type { ServerResponse } from 'node:http';

export class DeferredRefusals {
  readonly #wanted: () => boolean;
  /** The check phase the batch is flushed in has begun: a dispatch no longer moves it. */
  #checking = false;
  readonly #mark = (): void => {
    this.#checking = true;
  };
  #res: ServerResponse[] = [];
  #status: number[] = [];
  #head: (readonly string[])[] = [];
  #body: string[] = [];
  #immediate: NodeJS.Immediate | undefined;
  #written = 0;
  readonly #flush = (): void => this.flush();

  /** `wanted`: whether to defer now. @default () => true */
  constructor(wanted: () => boolean = () => true) {
    this.#wanted = wanted;
  }

  /** Refusals written so far (the skipped ones not counted). */
  get written(): number {
    return this.#written;
  }

  /** Refusals queued and not written yet. */
  get pending(): number {
    return this.#res.length;
  }

  /** Write `status`, `head` (writeHead's flat list) and `body` on `res` at the end of this loop turn. */
  write(res: ServerResponse, status: number, head: readonly string[], body: string): void {
    if (this.#immediate === undefined) {
      if (!this.#wanted()) {
        res.writeHead(status, head as string[]);
        res.end(body);
        this.#written++;
        return;
      }
      this.#checking = false;
      setImmediate(this.#mark);
    }
    this.#res.push(res);
    this.#status.push(status);
    this.#head.push(head);
    this.#body.push(body);
    this.#immediate ??= setImmediate(this.#flush);
  }

  /** An upstream request was just dispatched (undici set its Immediate, if any): the refusals go behind it. */
  dispatched(): void {
    if (this.#immediate === undefined || this.#checking) return;
    clearImmediate(this.#immediate);
    this.#immediate = setImmediate(this.#flush);
  }

  /** Write every queued refusal now. */
  flush(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    const res = this.#res;
    const status = this.#status;
    const head = this.#head;
    const body = this.#body;
    // Swapped first: writing one may run the next request on its connection, and refuse it (queued for the next flush).
    this.#res = [];
    this.#status = [];
    this.#head = [];
    this.#body = [];
    for (let i = 0; i < res.length; i++) {
      const r = res[i]!;
      if (r.destroyed || r.headersSent) continue;
      r.writeHead(status[i]!, head[i] as string[]);
      r.end(body[i]);
      this.#written++;
    }
  }
}
