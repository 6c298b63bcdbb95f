/** KafkaSource's options, its stats and their defaults. */
import { optionKeys } from '../core/index.js';
import type { KafkaAuthOptions } from './kafka-auth.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** `ssl` and `sasl` (kafka-auth.ts) as kafkajs takes them, checked before connecting. */
export interface KafkaSourceOptions extends KafkaAuthOptions {
  /** Bootstrap brokers, "host:port". Non-empty. */
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  /** @default 'sluice' */
  readonly clientId?: string;
  /** Messages held per partition before it is paused; each fetch asks for the room left. Integer >= 1. @default 64 */
  readonly partitionBuffer?: number;
  /**
   * 'demand': each fetch asks for the bytes of the room left in the partition buffers (at the
   * average record size seen), within the two ceilings below. 'fixed': every fetch asks for the
   * ceilings (kafkajs on its own). @default 'demand'
   */
  readonly fetchSizing?: 'demand' | 'fixed';
  /** Ceiling of one partition's share of a fetch, bytes. Integer >= 1. @default 1048576 */
  readonly maxBytesPerPartition?: number;
  /** Ceiling of a whole fetch response, bytes. Integer >= maxBytesPerPartition. @default 10485760 */
  readonly maxBytes?: number;
  /** Record size assumed until records are seen, bytes. Integer >= 1. @default 1024 */
  readonly initialRecordBytes?: number;
  /** Between offset commits, ms. In (0, 2147483647]. @default 1000 */
  readonly commitIntervalMs?: number;
  /** Group session timeout, ms. @default 30000 */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat interval, ms (independent of processing). @default 3000 */
  readonly heartbeatIntervalMs?: number;
  /** Read from the start of the topic when the group has no committed offset. @default true */
  readonly fromBeginning?: boolean;
  /** Dead-letter topic. @default `${topic}.dead` */
  readonly deadLetterTopic?: string;
  /**
   * How long open() waits for the topic and the dead-letter topic to be served (every
   * partition led), ms; then it rejects naming the topic and why (no leader...). In [0, 2147483647]. @default 10000
   */
  readonly topicWaitMs?: number;
  /**
   * How long open() tries to reach the brokers (its first connection), ms; then it rejects with a
   * BrokerUnavailableError naming their address and the last connection error. Integer in [1, 2147483647]. @default 10000
   */
  readonly connectTimeoutMs?: number;
}

export interface KafkaSourceStats {
  /** Messages in the partition buffers, not yet demanded. */
  readonly buffered: number;
  readonly assignedPartitions: readonly number[];
  /** Partitions paused now because their buffer is full. */
  readonly pausedPartitions: readonly number[];
  /** Group joins of this member: 1 after the first join, one more per rebalance. */
  readonly joins: number;
  /** Fetch responses received. */
  readonly fetches: number;
  readonly fetchedBytes: number;
  readonly largestFetchBytes: number;
  /** The average record size seen, bytes. */
  readonly recordBytes: number;
  /** What the next fetch may return: per partition and in all, bytes. */
  readonly budgetPerPartition: number;
  readonly budget: number;
  /**
   * Messages finished here (acked or dead-lettered: counted in the consumer's `acked`) whose
   * offsets no commit has stored yet: read again by the group (at least once) if this member
   * went now. After close(), what its last commit could not store — the broker unreachable
   * during the stop: they will be delivered again.
   */
  readonly uncommitted: number;
  /** Offset commits the broker refused or did not answer (retried with the next commit). */
  readonly commitErrors: number;
  /** The last such commit's error, `Name: message`; undefined before any. */
  readonly lastCommitError: string | undefined;
}

export const KAFKA_SOURCE_DEFAULTS = deepFreeze({ partitionBuffer: 64, fetchSizing: 'demand', maxBytesPerPartition: 1_048_576, maxBytes: 10_485_760, initialRecordBytes: 1024 } as const);

export const KAFKA_SOURCE_KEYS = optionKeys<KafkaSourceOptions>({ brokers: true, topic: true, groupId: true, clientId: true, partitionBuffer: true, fetchSizing: true, maxBytesPerPartition: true, maxBytes: true, initialRecordBytes: true, commitIntervalMs: true, sessionTimeoutMs: true, heartbeatIntervalMs: true, fromBeginning: true, deadLetterTopic: true, topicWaitMs: true, connectTimeoutMs: true, ssl: true, sasl: true });
