// shownKey and storedKey (sluice/core) on bad arguments: a key that is not a string and a mode
// that is not 'hash' or 'raw' are an InvalidArgumentError naming them — a number threw
// "key.startsWith is not a function", and shownKey('k', 'plain') hashed in silence.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, shownKey, storedKey } from '../../src/core/public.js';

const loose = <T>(v: unknown): T => v as T;

describe('shownKey and storedKey name a bad argument', () => {
  it.each([[undefined], [null], [5], [{}]])('key %s', (key) => {
    for (const call of [() => shownKey(loose(key)), () => storedKey(loose(key))]) {
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(/^key: expected a tenant key \(a string\), received /);
    }
  });
  it('a mode that is not hash or raw', () => {
    expect(() => shownKey('key:k', loose('plain'))).toThrow(InvalidArgumentError);
    expect(() => shownKey('key:k', loose('plain'))).toThrow('mode: expected one of "hash", "raw", received "plain"');
  });
  it('valid calls answer as before', () => {
    expect(shownKey('ip:10.0.0.1')).toBe('ip:10.0.0.1');
    expect(shownKey('key:k', 'raw')).toBe('key:k');
    expect(shownKey('key:k')).toMatch(/^key:#[0-9a-f]{12}$/);
    expect(storedKey('key:k')).toMatch(/^key:#[A-Za-z0-9_-]{43}$/);
  });
});
