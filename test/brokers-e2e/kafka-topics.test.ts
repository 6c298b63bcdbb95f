// KafkaSource.open() creates its topic and dead-letter topic when missing. One that does not
// exist and cannot be created (here: a name the broker refuses; the same path as a creation
// refused for want of permission) is a BrokerRefusedError naming it, at once. Before, open()
// looked for it for 10 s (ensureTopics' bound) without a word, then opened anyway for a
// dead-letter topic (so every dead letter would fail later) or failed with kafkajs's bare error.
import { describe, expect, it } from 'vitest';
import { BrokerRefusedError } from '../../src/brokers/index.js';
import { KafkaSource } from '../../src/kafka/index.js';
import { kafka as kafkaService, unique } from '../brokers/services.js';

const svc = await kafkaService();
const brokers = svc.url.replace(/^tcp:\/\//, '').split(',');

async function openError(topic: string, deadLetterTopic?: string): Promise<unknown> {
  const opts = { brokers, topic, groupId: `${topic}-g`, ...(deadLetterTopic === undefined ? {} : { deadLetterTopic }) };
  return KafkaSource.open(opts).then(async (s) => { await s.close(); return undefined; }, (e: unknown) => e);
}

describe.skipIf(!svc.up)('a topic that does not exist and cannot be created', () => {
  it('the dead-letter topic: open() rejects with BrokerRefusedError naming it (it opened after 10 s before)', async () => {
    const err = await openError(unique('ktopic'), 'no such topic!');
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect((err as Error).message).toMatch(/topic "no such topic!" does not exist and could not be created \(.*invalid topic/);
  });

  it('the topic itself: the same error, not kafkajs\'s bare one', async () => {
    const err = await openError('bad topic!');
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect((err as Error).message).toMatch(/topic "bad topic!" does not exist and could not be created/);
  });
});
