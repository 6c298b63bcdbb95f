// fromIterable(undefined) and fromAsyncIterable(undefined) threw the engine's TypeError
// ("undefined is not iterable", "Cannot read properties of undefined"); null and other values
// were already named. Now undefined is named as they are.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { fromAsyncIterable, fromIterable, toArray } from '../../src/streams/index.js';

describe('iterable sources name undefined', () => {
  it.each([
    ['fromIterable', () => fromIterable(undefined as unknown as Iterable<number>), 'iterable: expected an iterable for fromIterable(), received undefined'],
    ['fromAsyncIterable', () => fromAsyncIterable(undefined as unknown as AsyncIterable<number>), 'iterable: expected an async iterable for fromAsyncIterable(), received undefined'],
  ] as const)('%s(undefined)', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('reads iterables as before', async () => {
    expect(await toArray(fromIterable(new Set([1, 2])))).toEqual([1, 2]);
    async function* gen(): AsyncGenerator<number> {
      yield 3;
    }
    expect(await toArray(fromAsyncIterable(gen()))).toEqual([3]);
  });
});
