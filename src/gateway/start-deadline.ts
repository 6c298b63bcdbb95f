/**
 * `server.workerStartTimeout` for one forked worker (primary.ts): a worker that has not said it
 * listens this long after its fork is hung in its start, and `onHung` kills it.
 *
 * The verdict is given after the channel was read. Node runs due timers before it polls for I/O,
 * so when the primary's loop comes back from a busy spell (a host at load 30, a long merge of
 * /metrics) with both the deadline passed and the worker's 'listening' message waiting in the
 * channel, the timer ran first: a worker that listened and served was killed as a failed start,
 * and forked again — a start that kept being slow was killed in a loop. The timer now only
 * schedules the verdict for the check phase (setImmediate), after the poll phase has read the
 * channel and its 'message' handler had the chance to call settle().
 */
export class StartDeadline {
  #timer: NodeJS.Timeout | undefined;
  #verdict: NodeJS.Immediate | undefined;
  #settled = false;

  /** `timeoutMs` <= 0: no deadline. */
  constructor(timeoutMs: number, onHung: () => void) {
    if (timeoutMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#verdict = setImmediate(() => {
        if (!this.#settled) onHung();
      });
    }, timeoutMs);
  }

  /** It listens (or it exited): no verdict, now or pending. */
  settle(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
    clearImmediate(this.#verdict);
  }
}
