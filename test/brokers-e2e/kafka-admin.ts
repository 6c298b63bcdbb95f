// What the Kafka tests share: the broker's address (KAFKA_BROKERS, scripts/brokers/kafka.sh), a
// client and a connected admin of the test file's own (disconnected after it), and a reader of a
// whole topic.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll } from 'vitest';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';

export const svc = await kafkaService();
export const brokers = svc.url.replace(/^tcp:\/\//, '').split(',');
export const kafka = new Kafka({ clientId: 'tests', brokers, logLevel: logLevel.NOTHING });
export const admin = kafka.admin();
if (svc.up) await admin.connect();
afterAll(async () => {
  if (svc.up) await admin.disconnect();
});

export interface ReadMessage {
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/** Every message of `topic` (up to 20 s), read by a group of its own from the beginning. */
export async function readAll(topic: string): Promise<ReadMessage[]> {
  const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (total === 0) return [];
  const c = kafka.consumer({ groupId: unique('reader') });
  const out: ReadMessage[] = [];
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ value: message.value, headers });
    },
  });
  await until(() => out.length >= total, 20_000);
  await c.disconnect();
  return out;
}
