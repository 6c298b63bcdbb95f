/**
 * The primary's calls to its workers (status, metrics, reload, drain) over node:cluster's IPC:
 * numbered, answered by the worker's `call-reply` of the same id, failed at their timeout (a
 * stuck worker must not hang /status) or at once when the worker exits (a reload waited 5 s on
 * a dead one). A worker's answered error is a refusal ({@link workerRefusal}), told apart from
 * an unanswered call.
 */
import type { Worker } from 'node:cluster';
import type { CallMessage } from './worker-messages.js';
import { workerRefusal } from './worker-rollout.js';

/** A call without its id (the calls number them). */
export type CallBody = CallMessage extends infer M ? (M extends CallMessage ? Omit<M, 'id'> : never) : never;

/** A call to a worker that gets no answer within this long fails. */
export const CALL_TIMEOUT_MS = 5_000;

export class WorkerCalls {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; worker: Worker }>();

  /** Ask worker `index` (`worker`) `m`; settles with its answer, its refusal, or a timeout after `timeoutMs`. */
  call(worker: Worker, index: number, m: CallBody, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`worker ${index} did not answer ${m.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, worker });
      if (!worker.isConnected()) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new Error(`worker ${index} is not connected`));
        return;
      }
      try {
        worker.send({ ...m, id } as CallMessage);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** A worker's `call-reply`: its call settles (one that timed out already is dropped). */
  answer(m: { readonly id: number; readonly result?: unknown; readonly error?: string }): void {
    const c = this.#pending.get(m.id);
    if (c === undefined) return;
    this.#pending.delete(m.id);
    clearTimeout(c.timer);
    if (m.error !== undefined) c.reject(workerRefusal(m.error));
    else c.resolve(m.result);
  }

  /** `worker` (worker `index`) exited: its calls get no answer, so they fail now. */
  failAll(worker: Worker, index: number): void {
    for (const [id, c] of this.#pending) {
      if (c.worker !== worker) continue;
      this.#pending.delete(id);
      clearTimeout(c.timer);
      c.reject(new Error(`worker ${index} exited`));
    }
  }
}
