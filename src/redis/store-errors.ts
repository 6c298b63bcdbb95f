/**
 * The Redis store's errors. An unavailable store (a timeout, a lost connection, the guard's
 * breaker open) is what `onStoreError` handles; a key holding another type is a
 * misconfiguration (two programs writing one key), answered as an error and never
 * overwritten.
 */
import { SluiceError } from '../core/errors.js';

/** The store did not answer within its timeout, the connection failed, or its breaker is open. */
export class StoreUnavailableError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super('SLUICE_ERR_STORE_UNAVAILABLE', `redis store: ${message}`, cause === undefined ? undefined : { cause });
  }
  override get name(): string {
    return 'StoreUnavailableError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_STORE_UNAVAILABLE';
  }
}

/** A key sluice reads holds a value of another type (WRONGTYPE): nothing was changed. */
export class StoreWrongTypeError extends SluiceError {
  /** The Redis key. */
  readonly key: string;
  constructor(key: string, cause: unknown) {
    super('SLUICE_ERR_STORE_WRONGTYPE', `redis store: key ${JSON.stringify(key)} holds a value of another type (WRONGTYPE); another program writes it, or keyPrefix collides with other data — nothing was changed`, { cause });
    this.key = key;
  }
  override get name(): string {
    return 'StoreWrongTypeError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_STORE_WRONGTYPE';
  }
}

/** Whether a Redis reply error is WRONGTYPE (inside a script, Redis reports the command's error). */
export function isWrongType(err: unknown): boolean {
  return err instanceof Error && err.message.includes('WRONGTYPE');
}
