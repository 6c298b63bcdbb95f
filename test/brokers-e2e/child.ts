// A consumer process for the proofs: consumes `name` on `broker`, appends each processed
// message's number to `out` (before the ack: at-least-once, so a kill between the two is a
// duplicate, never a loss) and, every 100 ms, a JSON line of its RSS and counters to `out`.stats.
// Run: node --import tsx test/brokers-e2e/child.ts '<json args>'
import { appendFileSync, writeFileSync } from 'node:fs';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerName } from './fixtures.js';
import { fixture, idOf } from './fixtures.js';

interface Args {
  readonly broker: BrokerName;
  readonly name: string;
  readonly out: string;
  readonly concurrency: number;
  readonly batch?: number;
  readonly handlerMs: number;
  readonly fixedPrefetch?: number;
  readonly redeliverMs?: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
const source = await fixture(args.broker).open(args.name, { consumer: `child-${process.pid}`, ...(args.fixedPrefetch !== undefined ? { fixedPrefetch: args.fixedPrefetch } : {}), ...(args.redeliverMs !== undefined ? { redeliverMs: args.redeliverMs } : {}) });
let pending: number[] = [];
const flush = (): void => {
  if (pending.length === 0) return;
  appendFileSync(args.out, pending.join('\n') + '\n');
  pending = [];
};
const consumer = new BrokerConsumer(
  source,
  async (d) => {
    if (args.handlerMs > 0) await new Promise((r) => setTimeout(r, args.handlerMs));
    pending.push(idOf(d.body));
    flush(); // recorded before the ack
  },
  { concurrency: args.concurrency, ...(args.batch !== undefined ? { batch: args.batch } : {}) },
);
const held = (): number => ('buffered' in source ? Number((source as { buffered: number }).buffered) : 0);
writeFileSync(`${args.out}.stats`, '');
const timer = setInterval(() => {
  const s = consumer.stats();
  appendFileSync(`${args.out}.stats`, JSON.stringify({ t: Date.now(), rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed, received: s.received, acked: s.acked, inFlight: s.inFlight, buffered: held() }) + '\n');
}, 100);
process.on('SIGTERM', () => {
  void consumer.stop().finally(() => {
    clearInterval(timer);
    process.exit(0);
  });
});
consumer.done.catch((err: unknown) => {
  console.error(String(err));
  process.exit(1);
});
