// fromIterable(undefined) and fromAsyncIterable(undefined) threw the engine's TypeError
// ("undefined is not iterable", "Cannot read properties of undefined"); null and other values
// were already named. Now undefined is named as they are. toAsyncIterator(x) of what is not a
// Publisher failed only at the first next(), with "this[#source].subscribe is not a function".
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { fromAsyncIterable, fromIterable, toArray, toAsyncIterator } from '../../src/streams/index.js';
import type { Publisher } from '../../src/streams/index.js';

describe('iterable sources name undefined', () => {
  it.each([
    ['fromIterable', () => fromIterable(undefined as unknown as Iterable<number>), 'iterable: expected an iterable for fromIterable(), received undefined'],
    ['fromAsyncIterable', () => fromAsyncIterable(undefined as unknown as AsyncIterable<number>), 'iterable: expected an async iterable for fromAsyncIterable(), received undefined'],
  ] as const)('%s(undefined)', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['an object without subscribe()', {}, 'an object'],
  ] as const)('toAsyncIterator(%s) names its source at the call', (_label, source, shown) => {
    const call = (): unknown => toAsyncIterator(source as unknown as Publisher<number>);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(`source: expected a Publisher (an object with subscribe()) for toAsyncIterator(), received ${shown}`);
  });

  it('reads iterables as before', async () => {
    expect(await toArray(fromIterable(new Set([1, 2])))).toEqual([1, 2]);
    async function* gen(): AsyncGenerator<number> {
      yield 3;
    }
    expect(await toArray(fromAsyncIterable(gen()))).toEqual([3]);
    const seen: number[] = [];
    for await (const x of toAsyncIterator(fromIterable([4, 5]))) seen.push(x);
    expect(seen).toEqual([4, 5]);
  });
});
