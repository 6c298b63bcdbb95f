/**
 * Create topics and wait until each partition's leader serves it. kafkajs's own
 * `createTopics({ waitForLeaders: true })` waits only while the metadata says
 * LEADER_NOT_AVAILABLE: a KRaft broker also answers UNKNOWN_TOPIC_OR_PARTITION ("This server
 * does not host this topic-partition") for a moment after the topic is created, which makes
 * it throw, and a leader named in the metadata may not yet host its partition (a produce then
 * fails "not the leader"). Here the wait is on what a client needs: the metadata names a
 * leader for every partition, and the leaders answer ListOffsets for them.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { pause } from '../brokers/source.js';

/** Between two looks at a topic not served yet, ms. */
const LOOK_EVERY_MS = 100;

/** Every partition of `topic` has a leader that answers for it (ListOffsets); false while not (or not yet). */
export async function topicServed(admin: Admin, topic: string): Promise<boolean> {
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions ?? [];
    if (partitions.length === 0 || partitions.some((p) => p.partitionErrorCode !== 0 || p.leader < 0)) return false;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.length === partitions.length;
  } catch {
    return false; // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE: not yet
  }
}

/** A topic that does not exist and whose creation the broker refused (no permission, an invalid name...). */
export class TopicNotCreatedError extends Error {
  readonly topic: string;
  /** kafkajs's error type for the refusal (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION, ...). */
  readonly type: string;
  constructor(topic: string, refusal: { type: string; message: string }) {
    super(`topic ${JSON.stringify(topic)} does not exist and could not be created (${refusal.type}: ${refusal.message})`, { cause: refusal });
    this.name = 'TopicNotCreatedError';
    this.topic = topic;
    this.type = refusal.type;
  }
}

interface Refusal {
  readonly type: string;
  readonly message: string;
  readonly topic?: string;
}

const isRefusal = (e: unknown): e is Refusal => e instanceof Error && typeof (e as { type?: unknown }).type === 'string';

/** The broker's refusal to create `topic`, from createTopics' error (one per topic, or one for all); undefined when not refused (a connection error is not). */
function refusalOf(err: unknown, topic: string): Refusal | undefined {
  const all = (err as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(all)) return all.find((e): e is Refusal => isRefusal(e) && e.topic === topic && e.type !== 'TOPIC_ALREADY_EXISTS');
  return isRefusal(err) ? err : undefined;
}

/** The metadata lists the topic's partitions (it exists, served or not). */
async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
  return (meta?.topics[0]?.partitions.length ?? 0) > 0;
}

/**
 * Create `topics` (one that exists already is fine) and resolve once each is served, or when
 * `timeoutMs` has passed or `signal` aborted (then false). A refused creation (no permission:
 * the topics may exist all the same) is not an error for a topic that exists: the wait says
 * whether it is usable. One that does not exist is a TopicNotCreatedError at once.
 */
export async function ensureTopics(admin: Admin, topics: readonly ITopicConfig[], timeoutMs = 30_000, signal?: AbortSignal): Promise<boolean> {
  const refused: unknown = await admin.createTopics({ topics: [...topics], waitForLeaders: false }).then(() => undefined, (e: unknown) => e);
  const deadline = Date.now() + timeoutMs;
  const waiting = new Set(topics.map((t) => t.topic));
  for (const topic of waiting) {
    const refusal = refused === undefined ? undefined : refusalOf(refused, topic);
    if (refusal !== undefined && !(await topicExists(admin, topic))) throw new TopicNotCreatedError(topic, refusal);
  }
  for (;;) {
    for (const topic of waiting) if (await topicServed(admin, topic)) waiting.delete(topic);
    if (waiting.size === 0) return true;
    if (Date.now() >= deadline || signal?.aborted === true) return false;
    await pause(LOOK_EVERY_MS, signal ?? new AbortController().signal);
  }
}
