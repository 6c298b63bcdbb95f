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

/** kafkajs's error type (LEADER_NOT_AVAILABLE, TOPIC_AUTHORIZATION_FAILED...) of `err` or of what its retrier wrapped, with its message. */
export function kafkaReason(err: unknown): { type: string | undefined; text: string } {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return { type, text: `${type}: ${e.message}` };
  }
  return { type: undefined, text: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** Types the same request gets again however long one waits. */
const FOR_GOOD = /AUTHORIZATION_FAILED|INVALID_TOPIC/;

/**
 * Why `topic` is not served (yet): undefined once every partition has a leader that answers for
 * it (ListOffsets), else the reason (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, ...).
 */
export async function whyNotServed(admin: Admin, topic: string): Promise<{ type: string | undefined; text: string } | undefined> {
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions ?? [];
    if (partitions.length === 0) return { type: undefined, text: 'no partitions in its metadata' };
    const bad = partitions.find((p) => p.partitionErrorCode !== 0 || p.leader < 0);
    if (bad !== undefined) return { type: undefined, text: `partition ${bad.partitionId} has no leader (error code ${bad.partitionErrorCode})` };
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.length === partitions.length ? undefined : { type: undefined, text: `${offsets.length} of ${partitions.length} partitions answer for their offsets` };
  } catch (err) {
    return kafkaReason(err);
  }
}

/** Every partition of `topic` has a leader that answers for it (ListOffsets); false while not (or not yet). */
export async function topicServed(admin: Admin, topic: string): Promise<boolean> {
  return (await whyNotServed(admin, topic)) === undefined;
}

/** A topic the broker refuses to this client (an ACL: TOPIC_AUTHORIZATION_FAILED): asking again gets the same answer. */
export class TopicRefusedError extends Error {
  readonly topic: string;
  readonly type: string;
  constructor(topic: string, reason: { type: string; text: string }, cause: unknown) {
    super(`topic ${JSON.stringify(topic)} is refused to this client (${reason.text})`, { cause });
    this.name = 'TopicRefusedError';
    this.topic = topic;
    this.type = reason.type;
  }
}

/** A topic that exists (or may) but whose partitions were not all served within the wait: names it, the wait and the last reason seen. */
export class TopicNotServedError extends Error {
  readonly topic: string;
  readonly reason: string;
  constructor(topic: string, waitedMs: number, reason: string, waitOption?: string) {
    super(`topic ${JSON.stringify(topic)} is not served after ${waitedMs} ms${waitOption === undefined ? '' : ` (${waitOption})`}: ${reason}`);
    this.name = 'TopicNotServedError';
    this.topic = topic;
    this.reason = reason;
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

/** The metadata lists the topic's partitions (it exists, served or not); a TopicRefusedError when it is refused to this client. */
async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch((err: unknown) => {
    const reason = kafkaReason(err);
    if (reason.type !== undefined && /AUTHORIZATION_FAILED/.test(reason.type)) throw new TopicRefusedError(topic, { type: reason.type, text: reason.text }, err);
    return undefined;
  });
  return (meta?.topics[0]?.partitions.length ?? 0) > 0;
}

/**
 * Create `topics` (one that exists already is fine) and resolve true once each is served, false
 * when `signal` aborted. A refused creation (no permission: the topics may exist all the same) is
 * not an error for a topic that exists: the wait says whether it is usable. One that does not
 * exist is a TopicNotCreatedError at once; one refused to this client (an ACL) a
 * TopicRefusedError at once; one not served after `timeoutMs` a TopicNotServedError naming the
 * last reason seen (`waitOption` names the option that set the wait, for the message).
 */
export async function ensureTopics(admin: Admin, topics: readonly ITopicConfig[], timeoutMs = 30_000, signal?: AbortSignal, waitOption?: string): Promise<boolean> {
  const refused: unknown = await admin.createTopics({ topics: [...topics], waitForLeaders: false }).then(() => undefined, (e: unknown) => e);
  const deadline = Date.now() + timeoutMs;
  const waiting = new Map(topics.map((t) => [t.topic, 'not looked at yet']));
  for (const topic of waiting.keys()) {
    const refusal = refused === undefined ? undefined : refusalOf(refused, topic);
    if (refusal !== undefined && !(await topicExists(admin, topic))) throw new TopicNotCreatedError(topic, refusal);
  }
  // Not a refusal: kafkajs failed before asking (it wants every topic's metadata first, which one partition without a leader anywhere spoils).
  const created = refused !== undefined && topics.every((t) => refusalOf(refused, t.topic) === undefined) ? `; creating it failed: ${kafkaReason(refused).text}` : '';
  for (;;) {
    for (const topic of waiting.keys()) {
      const why = await whyNotServed(admin, topic);
      if (why === undefined) waiting.delete(topic);
      else if (why.type !== undefined && FOR_GOOD.test(why.type)) throw new TopicRefusedError(topic, { type: why.type, text: why.text }, undefined);
      else waiting.set(topic, why.text);
    }
    if (waiting.size === 0) return true;
    if (signal?.aborted === true) return false;
    if (Date.now() >= deadline) {
      const [topic, why] = waiting.entries().next().value as [string, string];
      throw new TopicNotServedError(topic, timeoutMs, `${why}${why.startsWith('UNKNOWN_TOPIC') ? created : ''}`, waitOption);
    }
    await pause(LOOK_EVERY_MS, signal ?? new AbortController().signal);
  }
}
