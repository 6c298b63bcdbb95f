import { describe, expect, it } from 'vitest';
import type * as Errors from '../../src/core/errors.js';
import { AbortedError, ClosedError, InvalidArgumentError, InvalidOptionError, isSluiceError, RejectedError, SluiceError } from '../../src/core/index.js';

describe('errors', () => {
  it('carry a stable code and a name', () => {
    const r = new RejectedError({ ok: false, gate: 'api', reason: 'rate_limited', retryAfterMs: 250, facts: undefined });
    expect(r).toMatchObject({ code: 'SLUICE_ERR_REJECTED', name: 'RejectedError', reason: 'rate_limited', retryAfterMs: 250, gate: 'api' });
    expect(r.message).toBe('api: rejected (rate_limited); retry after 250 ms');
    expect(new RejectedError({ ok: false, gate: 'api', reason: 'concurrency', retryAfterMs: Infinity, facts: undefined }).message).toBe(
      'api: rejected (concurrency); retrying will not help',
    );
    expect(new InvalidOptionError('limit', 'an integer >= 1', -1)).toMatchObject({ code: 'SLUICE_ERR_INVALID_OPTION', name: 'InvalidOptionError', option: 'limit', message: 'limit: expected an integer >= 1, received -1' });
    expect(new InvalidArgumentError('cost', 'a number >= 1', '3')).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', message: 'cost: expected a number >= 1, received "3"' });
    expect(new AbortedError('db', 'bye')).toMatchObject({ code: 'SLUICE_ERR_ABORTED', name: 'AbortedError', cause: 'bye' });
    expect(new ClosedError('db')).toMatchObject({ code: 'SLUICE_ERR_CLOSED', name: 'ClosedError', message: 'db: closed' });
  });

  it('instanceof distinguishes the classes by code', () => {
    const closed = new ClosedError('q');
    expect(closed).toBeInstanceOf(ClosedError);
    expect(closed).toBeInstanceOf(SluiceError);
    expect(closed).toBeInstanceOf(Error);
    expect(closed).not.toBeInstanceOf(RejectedError);
    expect(new Error('x')).not.toBeInstanceOf(SluiceError);
    expect(isSluiceError(closed)).toBe(true);
    expect(isSluiceError({ code: 'SLUICE_ERR_CLOSED' })).toBe(false);
  });

  it('the brand survives a second copy of the package', async () => {
    // A query string makes the module loader evaluate a separate copy of the module.
    const specifier = '../../src/core/errors.js?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof Errors;
    expect(copy.ClosedError).not.toBe(ClosedError);
    const foreign = new copy.ClosedError('q');
    expect(foreign).toBeInstanceOf(ClosedError);
    expect(foreign).toBeInstanceOf(SluiceError);
    expect(isSluiceError(foreign)).toBe(true);
    expect(new ClosedError('q')).toBeInstanceOf(copy.ClosedError);
    expect(foreign).not.toBeInstanceOf(RejectedError);
  });
});
