/**
 * A publisher of a Channel's items. Each subscriber takes from the channel (several
 * subscribers compete for items, like several consumers of one queue); items are taken only
 * as demand allows, so a blocking channel's producers stay blocked while nobody asks. The
 * stream completes when the channel is closed and drained. Cancel aborts a waiting take, so
 * no item is taken for a subscriber that has gone.
 */
import { ClosedError } from '../../core/errors.js';
import type { Channel } from '../../queue/channel.js';
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import type { Publisher } from '../types.js';
import { badArgument } from '../arguments.js';

/** Most items one waiting take asks the channel for. */
const MAX_TAKE = 1024;

class ChannelSource<T> implements Source<T> {
  constructor(readonly channel: Channel<T>) {}
  pull(e: Emitter<T>): void | Promise<void> {
    const ch = this.channel;
    while (e.demand > 0) {
      const r = ch.tryTake();
      if (r.ok) e.next(r.value);
      else if (r.done) return e.complete();
      else break;
    }
    if (e.demand === 0 || e.cancelled) return;
    return ch.take(Math.min(e.demand, MAX_TAKE), { signal: e.signal }).then(
      (items) => {
        for (const item of items) e.next(item);
      },
      (err: unknown) => {
        if (err instanceof ClosedError) e.complete();
        else if (!e.cancelled) throw err;
      },
    );
  }
}

export function fromChannel<T>(channel: Channel<T>): Publisher<T> {
  if (channel === null || typeof channel !== 'object' || typeof (channel as Partial<Channel<T>>).tryTake !== 'function') {
    throw badArgument('fromChannel', 'channel', 'a Channel', channel);
  }
  return publisher(() => new ChannelSource(channel), { name: `fromChannel(${channel.name})` });
}
