/**
 * The size of each Kafka fetch, from the room demand has made in the partition buffers and
 * the record size seen so far. Kafka has no per-fetch record count (the Java client's
 * `max.poll.records` only cuts what was already fetched), but a fetch request carries byte
 * limits, so the record count is turned into bytes:
 *
 *     room(p)       = partitionBuffer − buffered(p)       each assigned partition not paused
 *     recordBytes   = EWMA of (key + value + headers + RECORD_OVERHEAD), α = 0.2
 *     perPartition  = clamp(ceil(max room(p) · recordBytes), recordBytes, maxBytesPerPartition)
 *     total         = clamp(ceil(Σ room(p) · recordBytes), perPartition, maxBytes)
 *
 * A buffer fills only as fast as the pipeline's demand empties it, so a consumer whose
 * handlers take 8 messages at a time pulls about 8 records' worth per partition, not the
 * client's default megabyte. Kafka still answers with at least one whole record batch (KIP-74:
 * a fetch must make progress), so one fetch can exceed the budget by the batch the producer
 * wrote; a consumer keeps at most `partitionBuffer` of its records and reads the rest again
 * later. `fixed` keeps both limits at their ceilings (what kafkajs does on its own).
 */
import type { KafkaMessage } from 'kafkajs';
import { InvalidArgumentError } from '../core/errors.js';
import { argOptions, optionKeys, optKnownKeys } from '../core/option-keys.js';
import { optBoolean, optInt, optNumber } from '../core/options.js';

/** Bytes a record costs on the wire beyond its key, value and headers (length, attributes, deltas as varints; the batch header shared). */
export const RECORD_OVERHEAD = 24;

const BUDGET_KEYS = optionKeys<FetchBudgetOptions>({ maxBytesPerPartition: true, maxBytes: true, initialRecordBytes: true, adaptive: true });

export interface FetchBudgetOptions {
  /** Highest per-partition fetch size, bytes. */
  readonly maxBytesPerPartition: number;
  /** Highest fetch response size, bytes. */
  readonly maxBytes: number;
  /** The record size assumed before one is seen, bytes. */
  readonly initialRecordBytes: number;
  /** false: both limits stay at their ceilings. */
  readonly adaptive: boolean;
}

export class FetchBudget {
  readonly #o: FetchBudgetOptions;
  readonly #rooms: () => Iterable<number>;
  #recordBytes: number;

  /** `rooms`: the free room, in records, of each partition a fetch would ask for now. */
  constructor(options: FetchBudgetOptions, rooms: () => Iterable<number>) {
    argOptions('FetchBudget', options, false);
    optKnownKeys('FetchBudget', options, BUDGET_KEYS);
    optInt('maxBytesPerPartition', options.maxBytesPerPartition, 1);
    optInt('maxBytes', options.maxBytes, 1);
    optNumber('initialRecordBytes', options.initialRecordBytes, Number.MIN_VALUE);
    optBoolean('adaptive', options.adaptive, false);
    if (typeof rooms !== 'function') throw new InvalidArgumentError('rooms', "a function returning the partitions' free rooms", rooms);
    this.#o = options;
    this.#rooms = rooms;
    this.#recordBytes = options.initialRecordBytes;
  }

  /** The average record size so far, bytes. */
  get recordBytes(): number {
    return this.#recordBytes;
  }

  /** A record was taken: its size moves the average. */
  observe(message: KafkaMessage): void {
    let bytes = RECORD_OVERHEAD + (message.key?.length ?? 0) + (message.value?.length ?? 0);
    for (const [k, v] of Object.entries(message.headers ?? {})) bytes += k.length + headerBytes(v);
    this.#recordBytes += 0.2 * (bytes - this.#recordBytes);
  }

  /** Bytes one partition may return in the next fetch. */
  perPartition(): number {
    if (!this.#o.adaptive) return this.#o.maxBytesPerPartition;
    let most = 0;
    for (const r of this.#rooms()) most = Math.max(most, r);
    return this.#clamp(most, this.#o.maxBytesPerPartition);
  }

  /** Bytes the whole next fetch may return. */
  total(): number {
    if (!this.#o.adaptive) return this.#o.maxBytes;
    let sum = 0;
    for (const r of this.#rooms()) sum += r;
    return Math.max(this.perPartition(), this.#clamp(sum, this.#o.maxBytes));
  }

  #clamp(records: number, ceiling: number): number {
    const floor = Math.ceil(this.#recordBytes);
    return Math.min(ceiling, Math.max(floor, Math.ceil(records * this.#recordBytes)));
  }

  /**
   * The limits as kafkajs options. kafkajs reads `maxBytesPerPartition` and `maxBytes` anew
   * for every fetch request and writes them with `Buffer#writeInt32BE`, which converts its
   * argument with `+value`: an object whose `valueOf` is the budget now is a limit that moves.
   */
  kafkajsLimits(): { readonly maxBytesPerPartition: number; readonly maxBytes: number } {
    return { maxBytesPerPartition: { valueOf: () => this.perPartition() } as unknown as number, maxBytes: { valueOf: () => this.total() } as unknown as number };
  }
}

function headerBytes(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (Array.isArray(v)) return v.reduce((n: number, x: unknown) => n + headerBytes(x), 0);
  return Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v as string));
}
