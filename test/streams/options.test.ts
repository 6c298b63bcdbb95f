// Unknown option keys of the streams layer's sources, operators and sinks are refused when the
// stage is built, with core's option-error template naming the nearest known key.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/rate/index.js';
import { Channel } from '../../src/queue/index.js';
import { batch, buffer, flatMap, forEach, fromArray, fromEvents, mapAsync, merge, onBackpressure, publisher, throttle, timeout, toArray, toAsyncIterator, toChannel, toWritable } from '../../src/streams/index.js';
import { thrown } from '../option-error.js';

const loose = (o: Record<string, unknown>): never => o as never;
const items = () => fromArray([1, 2, 3]);

describe('streams: unknown option keys', () => {
  const cases: [string, () => unknown, string, RegExp][] = [
    ['publisher', () => publisher(() => ({ pull: () => undefined }), loose({ singel: true })), 'singel', /^singel: expected one of the publisher options \(did you mean "single"\?\), received true$/],
    ['forEach', () => forEach(items(), () => undefined, loose({ concurency: 4 })), 'concurency', /one of the forEach options \(did you mean "concurrency"\?\)/],
    ['toWritable', () => toWritable(items(), new Writable({ objectMode: true, write: (_c, _e, cb) => cb() }), loose({ bach: 4 })), 'bach', /one of the toWritable options \(did you mean "batch"\?\)/],
    ['buffer', () => buffer(4, 'block', loose({ onDorp: () => undefined })), 'onDorp', /one of the buffer options \(did you mean "onDrop"\?\)/],
    ['onBackpressure', () => onBackpressure('drop', loose({ capacty: 8 })), 'capacty', /one of the onBackpressure options \(did you mean "capacity"\?\)/],
    ['mapAsync', () => mapAsync((x) => x, loose({ orderd: false })), 'orderd', /one of the mapAsync options \(did you mean "ordered"\?\)/],
    ['flatMap', () => flatMap(() => items(), loose({ prefech: 4 })), 'prefech', /one of the flatMap options \(did you mean "prefetch"\?\)/],
    ['merge', () => merge([items()], loose({ concurrent: 2 })), 'concurrent', /one of the flatMap options \(did you mean "concurrency"\?\)/],
    ['batch', () => batch(10, 100, loose({ clok: undefined })), 'clok', /one of the batch options \(did you mean "clock"\?\)/],
    ['throttle', () => throttle(new TokenBucket({ rate: 10 }), loose({ contxt: () => ({}) })), 'contxt', /one of the throttle options \(did you mean "context"\?\)/],
    ['timeout', () => timeout(100, loose({ clocks: undefined })), 'clocks', /one of the timeout options \(did you mean "clock"\?\)/],
    ['toArray', () => toArray(items(), loose({ batches: 4 })), 'batches', /one of the toArray options \(did you mean "batch"\?\)/],
    ['toAsyncIterator', () => toAsyncIterator(items(), loose({ bach: 4 })), 'bach', /one of the toAsyncIterator options \(did you mean "batch"\?\)/],
    ['fromEvents', () => fromEvents(new EventEmitter(), 'data', loose({ capacity: 4, overflow: 'drop-newest', endEvnt: 'end' })), 'endEvnt', /one of the fromEvents options \(did you mean "endEvent"\?\)/],
  ];
  for (const [owner, make, option, message] of cases) {
    it(`${owner} refuses ${option}`, () => {
      const e = thrown(make);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(message);
    });
  }

  it('toChannel (a promise) rejects, and does not close the channel it was not allowed to use', async () => {
    const channel = new Channel<number>({ capacity: 4 });
    await expect(toChannel(items(), channel, loose({ closed: false }))).rejects.toThrow(/^closed: expected one of the toChannel options \(did you mean "close"\?\)/);
  });

  it('without a near key, the known keys are listed', () => {
    expect(thrown(() => mapAsync((x) => x, loose({ parallelism: 4 }))).message).toBe('parallelism: expected one of the mapAsync options: concurrency, ordered, meter, received 4');
  });

  it('known keys pass; onBackpressure gives its capacity to the buffer and the rest as buffer options', async () => {
    let channel: Channel<number> | undefined;
    const got: number[] = [];
    const stage = onBackpressure<number>('drop', { capacity: 2, name: 'feed', onChannel: (c) => (channel = c) });
    await forEach(mapAsync<number, number>((x) => x * 2, { concurrency: 2, ordered: true })(stage(items())), (x) => void got.push(x), { concurrency: 1, batch: 1 });
    expect(channel).toMatchObject({ name: 'feed', capacity: 2 });
    expect(got.length).toBeGreaterThan(0);
    expect(() => buffer(2, 'drop-newest', { name: 'b', onDrop: () => undefined })).not.toThrow();
  });
});
