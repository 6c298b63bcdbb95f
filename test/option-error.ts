// The option error a call throws, for tests that pass what the types forbid on purpose.
import { expect } from 'vitest';
import { InvalidOptionError } from '../src/core/index.js';

/** Runs `make`, expects it to throw InvalidOptionError, and returns that error. */
export function thrown(make: () => unknown): InvalidOptionError {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  throw new Error('made without an error');
}

/** The error `call` throws or its promise rejects with (a construction that must fail). */
export async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error('created without an error');
}
