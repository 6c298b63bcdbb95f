// The "stop during a burst" case every broker's bad-day test makes: a consumer that took a
// batch of 16 with 2 handlers busy is stopped, then its handlers finish. What it took but never
// handled must be released to the broker at once, nothing left held.
import { expect } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import type { BrokerConsumerStats, BrokerSource } from '../../src/brokers/index.js';
import { until } from '../brokers/services.js';

/** Consume `source` with 2 handlers that wait until stopped, stop mid-batch, check the release; the final stats. */
export async function stopMidBurst(source: BrokerSource): Promise<BrokerConsumerStats> {
  const gates: (() => void)[] = [];
  const c = new BrokerConsumer(source, () => new Promise<void>((r) => gates.push(r)), { concurrency: 2, batch: 16 });
  expect(await until(() => c.stats().inFlight === 2 && c.stats().taken >= 16)).toBe(true);
  const stopping = c.stop();
  for (const g of gates.splice(0)) g();
  await stopping;
  const s = c.stats();
  expect(s.released).toBe(s.taken - s.received);
  expect(s.released).toBeGreaterThan(0);
  expect(s).toMatchObject({ acked: s.received, held: 0 });
  return s;
}
