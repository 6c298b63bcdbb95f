// hashTag (sluice/redis) given what is not a key: an array or a function has a length and read
// as the empty key, `{%}` — one slot shared by every such call — and a number threw
// "key.includes is not a function". Named now; strings tag as before. (No Redis needed.)
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { hashTag } from '../../src/redis/index.js';

const loose = (v: unknown): string => v as string;

describe('hashTag names a key that is not a string', () => {
  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a number', 42, '42'],
    ['an array', [], 'an array of length 0'],
    ['a function', () => 'k', 'a function'],
  ] as const)('%s', (_label, key, shown) => {
    expect(() => hashTag(loose(key))).toThrow(InvalidArgumentError);
    expect(() => hashTag(loose(key))).toThrow(`key: expected a string (a caller's key), received ${shown}`);
  });

  it('tags strings as before', () => {
    expect(['', 'a', '30d', 'a}b%c'].map(hashTag)).toEqual(['{%}', '{a}', '{30d}', '{a%7Db%25c}']);
  });
});
