// `consumers:` with what is not a RabbitMQ/Redis/Kafka source: a source of your own (no
// connection reported, no counts of its own) and a wrong entry.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, LagMonitor } from '../../src/brokers/index.js';
import type { BrokerSource, Delivery } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';

/** A source of your own: one delivery, then nothing until aborted; no `connection` unless given. */
function ownSource(connection?: BrokerSource['connection']): BrokerSource {
  let given = false;
  const delivery: Delivery = { id: '1', body: new Uint8Array(), attempt: 1, ack: async () => undefined, retry: async () => undefined, deadLetter: async () => undefined, release: async () => undefined } as unknown as Delivery;
  return {
    name: 'own',
    pull: async (_max, emit, signal) => {
      if (!given) {
        given = true;
        emit(delivery);
        return;
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    lag: async () => 0,
    close: async () => undefined,
    ...(connection === undefined ? {} : { connection }),
  };
}

describe('broker consumers on a scrape: a source of your own, a wrong entry', () => {
  it("a source that reports no connection ('unknown'): the consumer's counts, no sluice_broker_connection series, none of the sources' own counts", async () => {
    const consumer = new BrokerConsumer(ownSource(), () => undefined);
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, consumers: [consumer] });
    try {
      await new Promise<void>((resolve) => {
        const poll = (): void => void (consumer.stats().acked === 1 ? resolve() : setTimeout(poll, 5));
        poll();
      });
      const page = await registry.metrics();
      // The deprecated gauges of the totals (sluice_broker_received...) left out: metric-types.test.ts.
      const series = page.split('\n').filter((l) => /^sluice_broker_(\w+_total|held)\{/.test(l));
      expect(series).toEqual([
        'sluice_broker_held{source="own"} 0',
        'sluice_broker_received_total{source="own"} 1',
        'sluice_broker_failed_total{source="own"} 0',
        'sluice_broker_timed_out_total{source="own"} 0',
        'sluice_broker_retried_total{source="own"} 0',
        'sluice_broker_dead_lettered_total{source="own"} 0',
        'sluice_broker_settle_errors_total{source="own"} 0',
        'sluice_broker_reconnects_total{source="own"} 0',
      ]);
    } finally {
      metrics.close();
      await consumer.stop();
    }
  });

  it('two consumers of one source name (the same queue twice in a process): their counts summed, the connection counted by state — not one of them shown', async () => {
    const a = new BrokerConsumer(ownSource({ state: 'up', reconnects: 2 }), () => undefined);
    const b = new BrokerConsumer(ownSource({ state: 'reconnecting', reconnects: 1 }), () => undefined);
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, consumers: [a, b] });
    try {
      await new Promise<void>((resolve) => {
        const poll = (): void => void (a.stats().acked === 1 && b.stats().acked === 1 ? resolve() : setTimeout(poll, 5));
        poll();
      });
      const page = await registry.metrics();
      const series = page.split('\n').filter((l) => /^sluice_broker_(received_total|reconnects_total|connection)\{/.test(l));
      expect(series).toEqual([
        'sluice_broker_connection{source="own",state="up"} 1',
        'sluice_broker_connection{source="own",state="reconnecting"} 1',
        'sluice_broker_connection{source="own",state="down"} 0',
        'sluice_broker_received_total{source="own"} 2',
        'sluice_broker_reconnects_total{source="own"} 3',
      ]);
    } finally {
      metrics.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a LagMonitor given as a consumer (it goes in `brokers`): InvalidOptionError naming consumers[0], at construction rather than at every scrape', () => {
    const monitor = new LagMonitor(ownSource());
    expect(() => registerPrometheusMetrics({ registry: new Registry(), consumers: [monitor as never] })).toThrow(InvalidOptionError);
    expect(() => registerPrometheusMetrics({ registry: new Registry(), consumers: [monitor as never] })).toThrow(/^consumers\[0\]: expected a BrokerConsumer \(with stats\(\) and source\)/);
  });
});
