// A consumer process for the poison-restart tests: consumes `topic` (Kafka) or `queue` (RabbitMQ)
// and for every message appends a line to `out`. The poison message: `P <attempt>`, then its
// handler throws (`poison: 'throw'`, Kafka's test) or kills this very process (`'kill'`: SIGKILL,
// no handler, settlement or close runs, the other handlers mid-flight). Any other message, once
// processed (before the ack): its body, and with `poison: 'kill'` its attempt and its
// x-sluice-attempt header (or -). A `#` line says when the consumer started.
// Run: node --import tsx test/brokers-e2e/poison-child.ts '<json args>'
import { appendFileSync } from 'node:fs';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerSource } from '../../src/brokers/index.js';

interface Args {
  /** Kafka, or RabbitMQ when `url` is given. */
  readonly brokers?: string[];
  readonly topic?: string;
  readonly url?: string;
  readonly queue?: string;
  /** A fixed prefetch (a quorum queue refuses the adaptive one's channel-wide prefetch). */
  readonly prefetch?: number;
  readonly out: string;
  readonly maxAttempts: number;
  readonly handlerMs: number;
  readonly retryDelayMs: number;
  readonly poison?: 'throw' | 'kill';
}

const args = JSON.parse(process.argv[2]!) as Args;
async function open(): Promise<BrokerSource> {
  if (args.url !== undefined) {
    const { RabbitmqSource } = await import('../../src/rabbitmq/index.js');
    return RabbitmqSource.open({ url: args.url, queue: args.queue!, assertQueue: false, ...(args.prefetch !== undefined ? { prefetch: args.prefetch } : {}) });
  }
  const { KafkaSource } = await import('../../src/kafka/index.js');
  return KafkaSource.open({ brokers: args.brokers!, topic: args.topic!, groupId: `${args.topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 });
}
const source = await open();
const kill = args.poison === 'kill';
appendFileSync(args.out, `# ${process.pid} consuming at ${Date.now()}\n`);
const consumer = new BrokerConsumer(
  source,
  async (d) => {
    const body = Buffer.from(d.body).toString();
    if (body === 'poison') {
      appendFileSync(args.out, `P ${d.attempt}\n`);
      if (!kill) throw new Error('poison');
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined); // the signal is on its way
    }
    await new Promise((r) => setTimeout(r, args.handlerMs));
    appendFileSync(args.out, kill ? `${body} ${d.attempt} ${d.headers['x-sluice-attempt'] ?? '-'}\n` : `${body}\n`);
  },
  { concurrency: 4, onFailure: { maxAttempts: args.maxAttempts, baseDelayMs: args.retryDelayMs, maxDelayMs: args.retryDelayMs } },
);
process.on('SIGTERM', () => void consumer.stop().finally(() => process.exit(0)));
consumer.done.catch((err: unknown) => {
  console.error(String(err));
  process.exit(1);
});
