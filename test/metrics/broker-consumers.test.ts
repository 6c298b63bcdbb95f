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

  it('two consumers side by side in one registry, told apart by name: each its own series of counts and lag; two lag monitors of one name are an error naming brokers', async () => {
    // Two sources of one name (the same queue on two brokers): named, they are two series.
    const a = new BrokerConsumer(ownSource({ state: 'up', reconnects: 2 }), () => undefined, { name: 'orders-eu' });
    const b = new BrokerConsumer(ownSource({ state: 'down', reconnects: 0 }), () => undefined, { name: 'orders-us' });
    const lagA = new LagMonitor({ name: 'own', lag: async () => 7 }, { name: 'orders-eu' });
    const lagB = new LagMonitor({ name: 'own', lag: async () => 11 }, { name: 'orders-us' });
    await Promise.all([lagA.read(), lagB.read()]);
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, consumers: [a, b], brokers: [lagA, lagB] });
    try {
      await new Promise<void>((resolve) => {
        const poll = (): void => void (a.stats().acked === 1 && b.stats().acked === 1 ? resolve() : setTimeout(poll, 5));
        poll();
      });
      expect(a.stats().source).toBe('orders-eu');
      const page = await registry.metrics();
      const series = page.split('\n').filter((l) => /^sluice_broker_(lag|received_total|reconnects_total|connection)\{/.test(l));
      expect(series).toEqual([
        'sluice_broker_lag{source="orders-eu"} 7',
        'sluice_broker_lag{source="orders-us"} 11',
        'sluice_broker_connection{source="orders-eu",state="up"} 1',
        'sluice_broker_connection{source="orders-eu",state="reconnecting"} 0',
        'sluice_broker_connection{source="orders-eu",state="down"} 0',
        'sluice_broker_connection{source="orders-us",state="up"} 0',
        'sluice_broker_connection{source="orders-us",state="reconnecting"} 0',
        'sluice_broker_connection{source="orders-us",state="down"} 1',
        'sluice_broker_received_total{source="orders-eu"} 1',
        'sluice_broker_received_total{source="orders-us"} 1',
        'sluice_broker_reconnects_total{source="orders-eu"} 2',
        'sluice_broker_reconnects_total{source="orders-us"} 0',
      ]);
    } finally {
      metrics.close();
      await Promise.all([a.stop(), b.stop()]);
    }
    // Unnamed, two lag monitors of sources of one name would be one series showing either lag.
    const twins = [new LagMonitor({ name: 'own', lag: async () => 7 }), new LagMonitor({ name: 'own', lag: async () => 11 })];
    expect(() => registerPrometheusMetrics({ registry: new Registry(), brokers: twins })).toThrow(/^brokers: expected LagMonitors and ConsumerScalings of distinct names \(two are named "own": give each LagMonitor its own name option/);
    const later = registerPrometheusMetrics({ registry: new Registry(), brokers: () => twins });
    await expect(later.registry.metrics()).rejects.toThrow(/^brokers: expected LagMonitors and ConsumerScalings of distinct names/);
    later.close();
    expect(() => new BrokerConsumer(ownSource(), () => undefined, { name: '' })).toThrow(/^name: expected a non-empty string/);
  });

  it('a LagMonitor given as a consumer (it goes in `brokers`): InvalidOptionError naming consumers[0], at construction rather than at every scrape', () => {
    const monitor = new LagMonitor(ownSource());
    expect(() => registerPrometheusMetrics({ registry: new Registry(), consumers: [monitor as never] })).toThrow(InvalidOptionError);
    expect(() => registerPrometheusMetrics({ registry: new Registry(), consumers: [monitor as never] })).toThrow(/^consumers\[0\]: expected a BrokerConsumer \(with stats\(\) and source\)/);
  });
});
