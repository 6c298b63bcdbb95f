// describeError (the reason a retry or dead letter carries) never throws, whatever a handler
// threw: before, String() of an object without a prototype threw inside the consumer and failed
// it (the real broker: test/brokers-e2e/odd-failures.test.ts).
import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/brokers/index.js';

describe('describeError', () => {
  it('says what was thrown, for values String() cannot convert', () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const badName = new Error('boom');
    Object.defineProperty(badName, 'name', { get: () => { throw new Error('no name'); } });
    expect(describeError(Object.create(null))).toBe('thrown: [object Object]');
    expect(describeError({ toString: () => { throw new Error('no'); } })).toBe('thrown: [object Object]');
    expect(describeError(revoked.proxy)).toBe('thrown: (a object)');
    expect(describeError(badName)).toBe('thrown: [object Error]');
    expect(describeError(Symbol('s'))).toBe('thrown: Symbol(s)');
    expect(describeError(new RangeError('r\nx'))).toBe('RangeError: r x');
  });
});
