/**
 * `sluice/streams`: demand-driven streams. The Reactive Streams contract (Publisher,
 * Subscriber, Subscription, Processor) adapted to JavaScript, a base that keeps its rules,
 * sources, sinks and operators. See docs/streams.md.
 */
export type { Operator, Processor, Publisher, Subscriber, Subscription } from './types.js';
export type { Emitter, Source } from './emission.js';
export { publisher, SourcePublisher } from './publisher.js';
export type { PublisherOptions } from './publisher.js';
export { UNBOUNDED } from './rules.js';
export { pipe } from './pipe.js';
export { fromArray, fromIterable } from './sources/iterable.js';
export { fromAsyncIterable } from './sources/async-iterable.js';
export { forEach, FOR_EACH_DEFAULTS } from './sinks/for-each.js';
export type { ForEachOptions } from './sinks/for-each.js';
export { toArray } from './sinks/to-array.js';
export { toAsyncIterator } from './sinks/to-async-iterator.js';
export { map } from './operators/map.js';
export { filter } from './operators/filter.js';
export { take } from './operators/take.js';
export { skip } from './operators/skip.js';
export { StreamRuleError } from '../core/errors.js';
export { fromChannel } from './sources/channel.js';
export { fromEvents } from './sources/events.js';
export type { FromEventsOptions } from './sources/events.js';
export { HOT_OVERFLOWS } from './sources/buffered.js';
export type { HotBufferOptions, HotOverflow } from './sources/buffered.js';
export { fromReadable, fromReadableStream } from './sources/readable.js';
export { toWritable } from './sinks/to-writable.js';
export type { ToWritableOptions } from './sinks/to-writable.js';
export { toWritableStream } from './sinks/to-writable-stream.js';
export { toChannel } from './sinks/to-channel.js';
export type { ToChannelOptions } from './sinks/to-channel.js';
export { StageMeter } from './stage-meter.js';
export type { StageStats } from './stage-meter.js';
export { metered } from './operators/metered.js';
export { buffer, BUFFER_OVERFLOWS } from './operators/buffer.js';
export type { BufferOptions, BufferOverflow } from './operators/buffer.js';
export { onBackpressure } from './operators/on-backpressure.js';
export type { BackpressureStrategy, OnBackpressureOptions } from './operators/on-backpressure.js';
export { mapAsync } from './operators/map-async.js';
export type { MapAsyncOptions } from './operators/map-async.js';
export { flatMap, merge } from './operators/flat-map.js';
export type { FlatMapOptions } from './operators/flat-map.js';
export { batch } from './operators/batch.js';
export type { BatchOptions } from './operators/batch.js';
export { throttle } from './operators/throttle.js';
export type { ThrottleOptions } from './operators/throttle.js';
export { timeout } from './operators/timeout.js';
export type { TimeoutOptions } from './operators/timeout.js';
export { retry } from './operators/retry.js';
