// The streams layer's factories, operators and sinks answer an argument that is not what they
// take with an InvalidArgumentError naming it (as every sluice entry point does), not a
// TypeError — and a sink given no Publisher no longer fails inside with "Cannot read
// properties of null (reading 'subscribe')". The TypeErrors of the Reactive Streams rules
// (§1.9, §2.13) are the specification's and stay (rules-*.test.ts).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import {
  flatMap,
  forEach,
  fromArray,
  fromAsyncIterable,
  fromChannel,
  fromEvents,
  fromIterable,
  fromReadable,
  fromReadableStream,
  merge,
  metered,
  pipe,
  publisher,
  StageMeter,
  throttle,
  toArray,
  toChannel,
  toWritable,
  toWritableStream,
} from '../../src/streams/index.js';
import { retry } from '../../src/streams/operators/retry.js';

const bad = (v: unknown): never => v as never;
const one = fromArray([1]);

/** Each call given a wrong argument, and the message it must throw. */
const cases: [string, () => unknown, string][] = [
  ['fromArray(null)', () => fromArray(bad(null)), 'items: expected an array for fromArray(), received null'],
  ['fromIterable(42)', () => fromIterable(bad(42)), 'iterable: expected an iterable for fromIterable(), received 42'],
  ['fromAsyncIterable([])', () => fromAsyncIterable(bad([])), 'iterable: expected an async iterable for fromAsyncIterable(), received an array of length 0'],
  ['fromChannel(null)', () => fromChannel(bad(null)), 'channel: expected a Channel for fromChannel(), received null'],
  ['fromEvents(null)', () => fromEvents(bad(null), 'x', { capacity: 1, overflow: 'drop-newest' }), 'target: expected an EventEmitter or an EventTarget for fromEvents(), received null'],
  ['fromEvents without options', () => fromEvents(bad({ on: () => undefined }), 'x', bad(undefined)), 'options: expected an object { capacity, overflow }'],
  ['fromReadable("30d")', () => fromReadable(bad('30d')), 'readable: expected a Node Readable for fromReadable(), received "30d"'],
  ['fromReadableStream(null)', () => fromReadableStream(bad(null)), 'stream: expected a ReadableStream for fromReadableStream(), received null'],
  ['publisher(null)', () => publisher(bad(null)), 'open: expected a function returning a Source for publisher(), received null'],
  ['new StageMeter(NaN)', () => new StageMeter(bad(NaN)), 'name: expected a non-empty string for new StageMeter(), received NaN'],
  ['merge(null)', () => merge(bad(null)), 'publishers: expected an array of publishers for merge(), received null'],
  ['metered(null)', () => metered(bad(null)), 'meter: expected a StageMeter for metered(), received null'],
  ['throttle(undefined)', () => throttle(bad(undefined)), 'gate: expected a sluice gate (admit, clock) for throttle(), received undefined'],
  ['retry({})', () => retry(bad({})), 'policy: expected a RetryPolicy (sluice/retry) for retry(), received an object'],
  ['pipe(one, null)', () => pipe(one, bad(null)), 'ops[0]: expected an operator (a function) for pipe(), received null'],
  ['pipe(null)', () => pipe(bad(null)), 'source: expected a Publisher (an object with subscribe()) for pipe(), received null'],
  ['toArray(null)', () => toArray(bad(null)), 'source: expected a Publisher (an object with subscribe()) for toArray(), received null'],
  ['forEach(undefined, fn)', () => forEach(bad(undefined), () => undefined), 'source: expected a Publisher (an object with subscribe()) for forEach(), received undefined'],
  ['forEach(one, null)', () => forEach(one, bad(null)), 'fn: expected a function for forEach(), received null'],
  ['toChannel(null, c)', () => toChannel(bad(null), bad({ put: () => undefined })), 'source: expected a Publisher (an object with subscribe()) for toChannel(), received null'],
  ['toChannel(one, 42)', () => toChannel(one, bad(42)), 'channel: expected a Channel for toChannel(), received 42'],
  ['toWritable(one, null)', () => toWritable(one, bad(null)), 'writable: expected a Node Writable for toWritable(), received null'],
  ['toWritableStream(one, {})', () => toWritableStream(one, bad({})), 'stream: expected a WritableStream for toWritableStream(), received an object'],
];

describe('streams: arguments', () => {
  it('flatMap whose fn returns no Publisher fails the stream with InvalidArgumentError naming fn(item), not a bare TypeError', async () => {
    const err = await toArray(pipe(fromArray([1, 2]), flatMap(() => bad(42)))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', argument: 'fn(item)' });
    expect((err as Error).message).toBe('fn(item): expected a Publisher (an object with subscribe()) for flatMap(), received 42');
  });

  it('merge with an element that is no Publisher throws at once, naming its index', () => {
    expect(() => merge([one, bad(null)])).toThrow('publishers[1]: expected a Publisher (an object with subscribe()) for merge(), received null');
  });

  for (const [name, call, message] of cases) {
    it(`${name} throws InvalidArgumentError naming the argument`, async () => {
      let thrown: unknown;
      try {
        // toChannel is async: its refusal is a rejected promise.
        await call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      expect((thrown as Error).message).toContain(message);
    });
  }
});
