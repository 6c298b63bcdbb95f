/**
 * A handler's deadline (`handlerTimeoutMs` of BrokerConsumer): the handler runs against a timer;
 * past it, the run fails with a HandlerTimeoutError and the handler's signal aborts (with that
 * error as its reason). JavaScript cannot stop a function, so a handler that ignores its signal
 * runs on, its late result ignored: the message was already given to the failure policy.
 */
import { SluiceError } from '../core/index.js';

export class HandlerTimeoutError extends SluiceError {
  /** The limit that passed, ms. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('SLUICE_ERR_HANDLER_TIMEOUT', `handler still running after handlerTimeoutMs (${timeoutMs} ms)`);
    this.timeoutMs = timeoutMs;
  }
  override get name(): string {
    return 'HandlerTimeoutError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_HANDLER_TIMEOUT';
  }
}

/**
 * The message a handler works on is no longer its consumer's: the broker handed it to another
 * (a peer claimed the Redis Streams entry; SQS refused a stale receipt handle: the visibility
 * timeout passed and another consumer received it). The handler's signal aborts with it; its
 * result will not settle the message for this consumer.
 */
export class LeaseLostError extends SluiceError {
  constructor(source: string, id: string, why: string) {
    super('SLUICE_ERR_LEASE_LOST', `${source}: message ${id} is no longer this consumer's (${why}): another consumer may be handling it`);
  }
  override get name(): string {
    return 'LeaseLostError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_LEASE_LOST';
  }
}

/**
 * Run `handler(signal)`; rejects with HandlerTimeoutError once `timeoutMs` passes first (and
 * aborts the signal). `outer` aborting aborts the signal too, with its reason (the run goes on:
 * the handler decides). A synchronous throw is a rejection. Infinity: no timer.
 */
export async function runWithin(timeoutMs: number, handler: (signal: AbortSignal) => unknown, outer?: AbortSignal): Promise<void> {
  const ac = new AbortController();
  const relay = (): void => ac.abort(outer?.reason);
  if (outer?.aborted === true) relay();
  else outer?.addEventListener('abort', relay, { once: true });
  try {
    await race(timeoutMs, handler, ac);
  } finally {
    outer?.removeEventListener('abort', relay);
  }
}

async function race(timeoutMs: number, handler: (signal: AbortSignal) => unknown, ac: AbortController): Promise<void> {
  const run = new Promise<unknown>((resolve) => resolve(handler(ac.signal)));
  if (!Number.isFinite(timeoutMs)) {
    await run;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new HandlerTimeoutError(timeoutMs);
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
    run.catch(() => undefined); // a late rejection of an abandoned handler is not unhandled
  }
}
