// The lag (M2) and the desired-consumer count on a Prometheus scrape, read from the real
// brokers the machine runs, while a slow consumer works through a backlog.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, ConsumerScaling, LagMonitor } from '../../src/brokers/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import type { BrokerName } from '../brokers-e2e/fixtures.js';
import { fixture } from '../brokers-e2e/fixtures.js';
import { nats, rabbitmq, redis, unique, until } from './services.js';

const up: Partial<Record<BrokerName, boolean>> = { rabbitmq: (await rabbitmq()).up, jetstream: (await nats()).up, 'redis-streams': (await redis()).up };

function gauge(page: string, metric: string): number | undefined {
  const m = new RegExp(`^${metric}\\{source="backlog"\\} (\\S+)$`, 'm').exec(page);
  return m === null ? undefined : Number(m[1]);
}

describe.each(Object.keys(up) as BrokerName[])('%s: lag and desired consumers on a scrape', (broker) => {
  it.skipIf(!up[broker])('a backlog shows as lag and asks for more consumers; drained, the lag is 0 and one consumer is enough', async () => {
    const fx = fixture(broker);
    const name = unique(`scrape-${broker}`);
    await fx.fill(name, 400, 64);
    const source = await fx.open(name);
    const consumer = new BrokerConsumer(source, () => new Promise((r) => setTimeout(r, 10)), { concurrency: 2 }); // ~100/s at most
    const monitor = new LagMonitor(source, { intervalMs: 200, name: 'backlog' });
    const scaling = new ConsumerScaling({ monitor, processed: () => consumer.stats().acked, drainSeconds: 1, max: 8 });
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, brokers: [scaling] });
    await monitor.start();
    try {
      let busy: { lag: number; desired: number } | undefined;
      expect(
        await until(async () => {
          const page = await registry.metrics();
          const lag = gauge(page, 'sluice_broker_lag');
          const desired = gauge(page, 'sluice_broker_desired_consumers');
          if (lag !== undefined && desired !== undefined && lag > 0 && desired > 1) busy = { lag, desired };
          return busy !== undefined;
        }, 10_000),
      ).toBe(true);
      expect(busy!.lag).toBeLessThanOrEqual(400);
      // The broker itself says there is still a backlog of that order.
      expect(await source.lag()).toBeGreaterThan(0);
      expect(await until(async () => consumer.stats().acked === 400, 30_000)).toBe(true);
      expect(
        await until(async () => {
          const page = await registry.metrics();
          return gauge(page, 'sluice_broker_lag') === 0 && gauge(page, 'sluice_broker_desired_consumers') === 1;
        }, 10_000),
      ).toBe(true);
      console.log(`[metrics] ${broker}: while busy lag ${busy!.lag} → desired ${busy!.desired}; drained: lag 0 → desired 1`);
    } finally {
      scaling.stop();
      monitor.stop();
      metrics.close();
      await consumer.stop();
      await fx.cleanup(name);
    }
  });
});
