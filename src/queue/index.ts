/** `sluice/queue`: the bounded channel. */
export { Channel } from './channel.js';
export { ChannelIterator } from './channel-iterator.js';
export type { ValuesOptions } from './channel-iterator.js';
export { CHANNEL_DEFAULTS, OVERFLOW_STRATEGIES, DROP_POLICIES } from './options.js';
export type { ChannelOptions, DropPolicy, OverflowStrategy } from './options.js';
export { DRAIN_WINDOW_MS } from './drain-estimate.js';
export type { ChannelStats, PutContext, PutManyRefusal, PutManyResult, PutResult, TakeContext, TakeResult } from './types.js';
