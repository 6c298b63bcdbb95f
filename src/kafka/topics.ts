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

/**
 * Create `topics` (one that exists already is fine) and resolve once each is served, or when
 * `timeoutMs` has passed or `signal` aborted (then false). A refused creation (no permission:
 * the topics may exist all the same) is not an error here: the wait says whether they are usable.
 */
export async function ensureTopics(admin: Admin, topics: readonly ITopicConfig[], timeoutMs = 30_000, signal?: AbortSignal): Promise<boolean> {
  await admin.createTopics({ topics: [...topics], waitForLeaders: false }).catch(() => false);
  const deadline = Date.now() + timeoutMs;
  const waiting = new Set(topics.map((t) => t.topic));
  for (;;) {
    for (const topic of waiting) if (await topicServed(admin, topic)) waiting.delete(topic);
    if (waiting.size === 0) return true;
    if (Date.now() >= deadline || signal?.aborted === true) return false;
    await pause(LOOK_EVERY_MS, signal ?? new AbortController().signal);
  }
}
