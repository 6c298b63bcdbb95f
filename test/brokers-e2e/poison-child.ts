// A Kafka consumer process for kafka-poison-restart.test.ts: consumes `topic`, and for every
// message appends a line to `out` — `P <attempt>` when the handler is given the poison message
// (it then throws), the message's body once it is processed otherwise (before the ack).
// Run: node --import tsx test/brokers-e2e/poison-child.ts '<json args>'
import { appendFileSync } from 'node:fs';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { KafkaSource } from '../../src/kafka/index.js';

interface Args {
  readonly brokers: string[];
  readonly topic: string;
  readonly out: string;
  readonly maxAttempts: number;
  readonly handlerMs: number;
  readonly retryDelayMs: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
const source = await KafkaSource.open({ brokers: args.brokers, topic: args.topic, groupId: `${args.topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 });
const consumer = new BrokerConsumer(
  source,
  async (d) => {
    const body = Buffer.from(d.body).toString();
    if (body === 'poison') {
      appendFileSync(args.out, `P ${d.attempt}\n`);
      throw new Error('poison');
    }
    await new Promise((r) => setTimeout(r, args.handlerMs));
    appendFileSync(args.out, `${body}\n`);
  },
  { concurrency: 4, onFailure: { maxAttempts: args.maxAttempts, baseDelayMs: args.retryDelayMs, maxDelayMs: args.retryDelayMs } },
);
process.on('SIGTERM', () => void consumer.stop().finally(() => process.exit(0)));
consumer.done.catch((err: unknown) => {
  console.error(String(err));
  process.exit(1);
});
