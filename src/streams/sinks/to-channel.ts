/**
 * Put a publisher's items into a Channel, as `put` would (a blocking channel's full buffer
 * holds back the demand; a dropping one counts its drops). At most `batch` puts are
 * unfinished at once. On completion the channel is closed (unless `close: false`); on an
 * upstream error it is closed too and the promise rejects (what was put stays takeable).
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import type { Channel } from '../../queue/channel.js';
import type { Publisher } from '../types.js';
import { forEach } from './for-each.js';
import { argPublisher, badArgument } from '../arguments.js';

export interface ToChannelOptions {
  /** Puts unfinished at once, and items requested at a time. Integer >= 1. @default 16 */
  readonly batch?: number;
  /** Close the channel when the publisher ends. @default true */
  readonly close?: boolean;
}

const TO_CHANNEL_KEYS = optionKeys<ToChannelOptions>({ batch: true, close: true });

export async function toChannel<T>(source: Publisher<T>, channel: Channel<T>, options?: ToChannelOptions): Promise<void> {
  argPublisher('toChannel', source);
  if (channel === null || typeof channel !== 'object' || typeof (channel as Partial<Channel<T>>).put !== 'function') {
    throw badArgument('toChannel', 'channel', 'a Channel', channel);
  }
  optKnownKeys('toChannel', options, TO_CHANNEL_KEYS);
  const batch = options?.batch ?? 16;
  try {
    await forEach(source, (item) => channel.put(item), { concurrency: batch, batch });
  } finally {
    if (options?.close !== false) channel.close();
  }
}
