// ensureTopics (src/kafka/topics.ts) when the broker refuses to create a topic, with an Admin
// that answers as kafkajs does: createTopics rejects with a KafkaJSAggregateError of one error
// per topic refused. The real broker's refusal (an invalid name) is in
// test/brokers-e2e/kafka-topics.test.ts; the permission case needs an authorizer, faked here
// (the real one: test/brokers-e2e/kafka-outage.test.ts).
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopics, TopicNotCreatedError, TopicNotServedError, TopicRefusedError } from '../../src/kafka/topics.js';

const protocolError = (type: string, message: string, topic?: string): Error => Object.assign(new Error(message), { type, ...(topic === undefined ? {} : { topic }) });

/** An Admin where `existing` topics exist and are served, whose createTopics rejects with `refusal`. */
function admin(existing: readonly string[], refusal: Error): Admin {
  const served = (topic: string): boolean => existing.includes(topic);
  return {
    createTopics: async () => Promise.reject(refusal),
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      const topic = topics[0]!;
      if (!served(topic)) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition');
      return { topics: [{ name: topic, partitions: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1] }] }] };
    },
    fetchTopicOffsets: async () => [{ partition: 0, offset: '0', high: '0', low: '0' }],
  } as unknown as Admin;
}

const denied = (...topics: string[]): Error => Object.assign(new Error('Topic creation errors'), { name: 'KafkaJSAggregateError', errors: topics.map((t) => protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics: [Topic authorization failed]', t)) });

describe('ensureTopics: a creation the broker refuses', () => {
  it('a topic that does not exist: TopicNotCreatedError naming it and the refusal, without waiting out the bound', async () => {
    const err: unknown = await ensureTopics(admin(['orders'], denied('orders', 'orders.dead')), [{ topic: 'orders' }, { topic: 'orders.dead' }], 2_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicNotCreatedError);
    expect((err as TopicNotCreatedError).topic).toBe('orders.dead');
    expect((err as TopicNotCreatedError).type).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect((err as Error).message).toBe('topic "orders.dead" does not exist and could not be created (TOPIC_AUTHORIZATION_FAILED: Not authorized to access topics: [Topic authorization failed])');
  });

  it('topics that exist: no error, served (a refused creation does not matter)', async () => {
    expect(await ensureTopics(admin(['orders', 'orders.dead'], denied('orders', 'orders.dead')), [{ topic: 'orders' }, { topic: 'orders.dead' }], 60_000)).toBe(true);
  });

  it('one error for the whole request (not per topic): it applies to every topic', async () => {
    const err: unknown = await ensureTopics(admin([], protocolError('CLUSTER_AUTHORIZATION_FAILED', 'Cluster authorization failed')), [{ topic: 't' }], 2_000).catch((e: unknown) => e);
    expect((err as Error).message).toBe('topic "t" does not exist and could not be created (CLUSTER_AUTHORIZATION_FAILED: Cluster authorization failed)');
  });

  it('not a refusal (the broker unreachable: no error type): waited for as before, then TopicNotServedError naming the topic, the wait and the last reason (before: false, no reason)', async () => {
    const err: unknown = await ensureTopics(admin([], new Error('Connection timeout')), [{ topic: 't' }], 1, undefined, 'topicWaitMs').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicNotServedError);
    expect((err as Error).message).toBe('topic "t" is not served after 1 ms (topicWaitMs): UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition; creating it failed: Error: Connection timeout');
  });

  it('an existing topic without a leader (kafkajs\'s retrier wrapping LEADER_NOT_AVAILABLE): TopicNotServedError saying so at the bound', async () => {
    const leaderless = Object.assign(new Error('Number of retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: protocolError('LEADER_NOT_AVAILABLE', 'There is no leader for this topic-partition as we are in the middle of a leadership election') });
    const a = { ...admin(['t'], new Error('unused')), createTopics: async () => true, fetchTopicMetadata: async () => Promise.reject(leaderless) } as unknown as Admin;
    const err: unknown = await ensureTopics(a, [{ topic: 't' }], 1).catch((e: unknown) => e);
    expect((err as Error).message).toBe('topic "t" is not served after 1 ms: LEADER_NOT_AVAILABLE: There is no leader for this topic-partition as we are in the middle of a leadership election');
  });

  it('a topic an ACL refuses (TOPIC_AUTHORIZATION_FAILED in its metadata): TopicRefusedError at once, not a wait', async () => {
    const a = { ...admin(['t'], new Error('unused')), createTopics: async () => true, fetchTopicMetadata: async () => Promise.reject(protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics: [Topic authorization failed]')) } as unknown as Admin;
    const err: unknown = await ensureTopics(a, [{ topic: 't' }], 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicRefusedError);
    expect((err as Error).message).toBe('topic "t" is refused to this client (TOPIC_AUTHORIZATION_FAILED: Not authorized to access topics: [Topic authorization failed])');
  });
});
