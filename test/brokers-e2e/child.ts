// A consumer process for the proofs: consumes `name` on `broker`, appends each processed
// message's number to `out` (before the ack: at-least-once, so a kill between the two is a
// duplicate, never a loss) and, every 100 ms, a JSON line of its RSS and counters (held: what
// it holds taken from the broker and unsettled) to `out`.stats.
// Run: node --expose-gc --import tsx test/brokers-e2e/child.ts '<json args>'
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
writeFileSync(`${args.out}.stats`, '');
// Run with --expose-gc: once a second a full collection first, so that line's RSS is what the
// process retains rather than garbage waiting for V8's next collection (marked gc: true).
const gc = (globalThis as { gc?: () => void }).gc;
let ticks = 0;
const sample = (): void => {
  const collected = gc !== undefined && ticks++ % 10 === 0;
  if (collected) gc();
  const s = consumer.stats();
  appendFileSync(`${args.out}.stats`, JSON.stringify({ t: Date.now(), gc: collected, rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed, received: s.received, acked: s.acked, inFlight: s.inFlight, buffered: source.buffered ?? 0, held: s.held, peakHeld: s.peakHeld }) + '\n');
};
sample();
const timer = setInterval(sample, 100);
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
