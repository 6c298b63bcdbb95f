/**
 * The base Publisher: a factory of sources, one per subscription, each driven by an
 * {@link Emission} that keeps the rules. Every sluice source and operator is built on it.
 */
import { StreamRuleError } from '../core/errors.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { Emission } from './emission.js';
import type { Source } from './emission.js';
import { checkSubscriber, refuse } from './rules.js';
import type { Publisher, Subscriber } from './types.js';
import { badArgument } from './arguments.js';

export interface PublisherOptions {
  /**
   * Only one subscription ever (a one-shot source: an iterator, a socket, a consumer). A second
   * subscriber receives onSubscribe then onError with a StreamRuleError (§1.9, §2.5). @default false
   */
  readonly single?: boolean;
  /** Name in errors and stage events. @default 'publisher' */
  readonly name?: string;
}

const PUBLISHER_KEYS = optionKeys<PublisherOptions>({ single: true, name: true });

export class SourcePublisher<T> implements Publisher<T> {
  readonly name: string;
  readonly #open: () => Source<T>;
  readonly #single: boolean;
  #subscribed = false;

  constructor(open: () => Source<T>, options?: PublisherOptions) {
    optKnownKeys('publisher', options, PUBLISHER_KEYS);
    this.#open = open;
    this.#single = options?.single === true;
    this.name = options?.name ?? 'publisher';
  }

  subscribe(subscriber: Subscriber<T>): void {
    const sub = checkSubscriber<T>(subscriber);
    if (this.#single && this.#subscribed) {
      refuse(sub, new StreamRuleError('1.9', `${this.name}: refused a second subscriber; this publisher takes one (its source can be read once)`));
      return;
    }
    this.#subscribed = true;
    let source: Source<T>;
    try {
      source = this.#open();
    } catch (err) {
      refuse(sub, err); // §1.9: a failure to start reaches onError, after onSubscribe
      return;
    }
    new Emission<T>(sub, source).begin();
  }
}

/**
 * Build a Publisher from a source factory: `open()` runs once per subscription and returns the
 * {@link Source} that subscription pulls from (docs/streams.md, "How to write a Publisher").
 */
export function publisher<T>(open: () => Source<T>, options?: PublisherOptions): Publisher<T> {
  if (typeof open !== 'function') throw badArgument('publisher', 'open', 'a function returning a Source', open);
  return new SourcePublisher<T>(open, options);
}
