// The stop of the "stop() during an outage" tests (stop-in-outage*.test.ts): stop a consumer
// whose handler holds a message, let that handler finish, and check the stop settled in time.
import { expect } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerConsumerOptions, BrokerSource } from '../../src/brokers/index.js';

/**
 * `consumer.stop()`, then `release()` (the held handler finishes during the stop); the stop must
 * settle within `boundMs` (it is waited for 5 s longer, so a late one fails here, not on the
 * test's timeout). Returns its time and the consumer's stats as text, for the assertions' messages.
 */
export async function timedStop(consumer: BrokerConsumer, release: () => void, boundMs: number): Promise<string> {
  const t0 = Date.now();
  const stopping = consumer.stop();
  release();
  let timer: NodeJS.Timeout | undefined;
  const within = await Promise.race([stopping.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), boundMs + 5000)))]);
  clearTimeout(timer);
  const took = Date.now() - t0;
  const why = JSON.stringify({ took, stats: consumer.stats() });
  expect(within, why).toBe(true);
  expect(took, why).toBeLessThanOrEqual(boundMs);
  return why;
}

/** A consumer of `source` whose handler holds the message 'held' until `release()`; `seen`: the bodies handed to it. */
export function holdingConsumer(source: BrokerSource, options: BrokerConsumerOptions = {}): { consumer: BrokerConsumer; seen: string[]; release: () => void } {
  let release: () => void = () => undefined;
  const holding = new Promise<void>((r) => (release = r));
  const seen: string[] = [];
  const consumer = new BrokerConsumer(source, async (d) => {
    const body = Buffer.from(d.body).toString();
    seen.push(body);
    if (body === 'held') await holding;
  }, options);
  return { consumer, seen, release };
}
