// A broker consumer's counts (`consumers:`) on a Prometheus scrape and an OpenTelemetry
// collection, under their names (running totals: counters `sluice_broker_*_total`; the
// deprecated gauges of the same figures checked to say so), read from a real RabbitMQ: a poison dead-lettered, and a dead letter the broker
// refuses (a policy on a vhost of this file's own: max-length 0, reject-publish).
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { registerOtelMetrics } from '../../src/otel/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import { RabbitmqProducer, RabbitmqSource } from '../../src/rabbitmq/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { REDIS_URL } from '../brokers-e2e/fixtures.js';
import { promtoolCheck, promtoolPath } from '../metrics/exposition.js';
import { ctl, haveCtl, vhostUrl } from '../brokers-e2e/rabbitmq-ctl.js';
import { rabbitmq, redis, unique, until } from './services.js';

const svc = await rabbitmq();
const VHOST = 'sluice-consumer-metrics';
const can = haveCtl(svc, 'RABBITMQ CONSUMER METRICS TESTS');
const url = can ? vhostUrl(svc, VHOST) : '';
const redisUp = (await redis()).up;

class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** A consumer of `queue`, holding one 'poison' message, whose handler always fails (maxAttempts 1). */
async function poisoned(queue: string, prefetch: number): Promise<{ source: RabbitmqSource; consumer: BrokerConsumer }> {
  const source = await RabbitmqSource.open({ url, queue, prefetch }); // declares the queue
  const producer = await RabbitmqProducer.open({ url });
  await producer.sendToQueue(queue, Buffer.from('poison'));
  await producer.close();
  const consumer = new BrokerConsumer(source, () => {
    throw new Error('bad');
  }, { onFailure: { maxAttempts: 1 } });
  return { source, consumer };
}

/** A scrape's series of `metric` for `source`, by their other labels (`''` for none). */
async function values(registry: Registry, metric: string, source: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metric);
  for (const v of m?.values ?? []) {
    const { source: s, ...rest } = v.labels;
    if (s === source) out[Object.entries(rest).map(([k, x]) => `${k}=${String(x)}`).join(',')] = v.value;
  }
  return out;
}

async function otelValues(reader: MetricReader, name: string): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const p of m.dataPoints) out[JSON.stringify(p.attributes)] = p.value as number;
    }
  }
  return out;
}

describe.skipIf(!can)('broker consumer counts on a scrape (RabbitMQ)', () => {
  it('a poison dead-lettered: received, failed, dead_lettered 1, nothing held, the connection up — in Prometheus and OpenTelemetry', async () => {
    const queue = unique('metrics-poison');
    const { source, consumer } = await poisoned(queue, 4);
    const registry = new Registry();
    const prom = registerPrometheusMetrics({ registry, consumers: [consumer] });
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const otel = registerOtelMetrics({ meter: provider.getMeter('test'), consumers: [consumer] });
    try {
      expect(await until(() => consumer.stats().deadLettered === 1)).toBe(true);
      const one = async (metric: string): Promise<number | undefined> => (await values(registry, metric, source.name))[''];
      expect({
        received: await one('sluice_broker_received_total'),
        failed: await one('sluice_broker_failed_total'),
        timedOut: await one('sluice_broker_timed_out_total'),
        retried: await one('sluice_broker_retried_total'),
        deadLettered: await one('sluice_broker_dead_lettered_total'),
        settleErrors: await one('sluice_broker_settle_errors_total'),
        reconnects: await one('sluice_broker_reconnects_total'),
        held: await one('sluice_broker_held'),
        heldBytes: await one('sluice_broker_held_bytes'),
        countedRedeliveries: await one('sluice_broker_counted_redeliveries_total'),
        deadLetterRefusals: await one('sluice_broker_dead_letter_refusals_total'),
        heldDeadLetters: await one('sluice_broker_held_dead_letters'),
        // A RabbitMQ source keeps no parked entries nor paused partitions: no series.
        parked: await one('sluice_broker_parked'),
        paused: await one('sluice_broker_paused_partitions'),
      }).toEqual({ received: 1, failed: 1, timedOut: 0, retried: 0, deadLettered: 1, settleErrors: 0, reconnects: 0, held: 0, heldBytes: 0, countedRedeliveries: 0, deadLetterRefusals: 0, heldDeadLetters: 0, parked: undefined, paused: undefined });
      expect(await values(registry, 'sluice_broker_connection', source.name)).toEqual({ 'state=up': 1, 'state=reconnecting': 0, 'state=down': 0 });
      // The running totals are counters; the gauges they were still serve the same figures, each naming its counter (docs/metrics.md, deprecated gauges).
      const json = await registry.getMetricsAsJSON();
      for (const name of ['received', 'failed', 'timed_out', 'retried', 'dead_lettered', 'settle_errors', 'reconnects', 'counted_redeliveries', 'dead_letter_refusals']) {
        expect(json.find((m) => m.name === `sluice_broker_${name}_total`)?.type, name).toBe('counter');
        const old = json.find((m) => m.name === `sluice_broker_${name}`);
        expect(old?.type, name).toBe('gauge');
        expect(old?.help, name).toMatch(new RegExp(`^Deprecated: use sluice_broker_${name}_total, a counter`));
        expect(await one(`sluice_broker_${name}`), name).toBe(await one(`sluice_broker_${name}_total`));
      }
      if (promtoolPath() !== null) expect(promtoolCheck(await registry.metrics())).toEqual({ status: 0, output: '' });
      expect(await otelValues(reader, 'sluice.broker.dead_lettered')).toEqual({ [JSON.stringify({ source: source.name })]: 1 });
      expect(await otelValues(reader, 'sluice.broker.connection')).toEqual({
        [JSON.stringify({ source: source.name, state: 'up' })]: 1,
        [JSON.stringify({ source: source.name, state: 'reconnecting' })]: 0,
        [JSON.stringify({ source: source.name, state: 'down' })]: 0,
      });
    } finally {
      prom.close();
      otel.close();
      await consumer.stop();
    }
  });

  it('a dead letter the broker refuses: dead_letter_refusals climbs and held_dead_letters is 1 while it waits; taken at last, held_dead_letters 0 and dead_lettered 1', async () => {
    const queue = unique('metrics-refused');
    const policy = `sluice-${queue}`;
    expect(ctl('set_policy', '-p', VHOST, policy, `^${queue}\\.dead$`, '{"max-length":0,"overflow":"reject-publish"}', '--apply-to', 'queues')).toBe(true);
    try {
      const { source, consumer } = await poisoned(queue, 1);
      const registry = new Registry();
      const prom = registerPrometheusMetrics({ registry, consumers: () => [consumer] });
      const one = async (metric: string): Promise<number | undefined> => (await values(registry, metric, source.name))[''];
      try {
        expect(await until(async () => ((await one('sluice_broker_dead_letter_refusals_total')) ?? 0) >= 2, 15_000)).toBe(true);
        expect(await one('sluice_broker_held_dead_letters')).toBe(1);
        expect(await one('sluice_broker_dead_lettered_total')).toBe(0);
        ctl('clear_policy', '-p', VHOST, policy);
        expect(await until(async () => (await one('sluice_broker_dead_lettered_total')) === 1, 40_000)).toBe(true);
        expect(await one('sluice_broker_held_dead_letters')).toBe(0);
      } finally {
        prom.close();
        await consumer.stop();
      }
    } finally {
      ctl('clear_policy', '-p', VHOST, policy);
    }
  });
});

describe.skipIf(!redisUp)('broker consumer counts on a scrape (Redis Streams)', () => {
  it('an entry whose dead letter the server refuses (WRONGTYPE), deadLetterTries 1: sluice_broker_parked 1; no series for what only RabbitMQ counts', async () => {
    const stream = unique('metrics-parked');
    const r = new Redis(REDIS_URL);
    await r.set(`${stream}:dead`, 'not a stream'); // every XADD to it: WRONGTYPE
    await r.xadd(stream, '*', 'body', 'poison');
    const source = await RedisStreamsSource.open({ url: REDIS_URL, stream, group: 'workers', consumer: 'a', claimIdleMs: 200, blockMs: 100, deadLetterTries: 1 });
    const consumer = new BrokerConsumer(source, () => {
      throw new Error('bad');
    }, { onFailure: { maxAttempts: 1 } });
    const registry = new Registry();
    const prom = registerPrometheusMetrics({ registry, consumers: [consumer] });
    const one = async (metric: string): Promise<number | undefined> => (await values(registry, metric, source.name))[''];
    try {
      expect(await until(async () => (await one('sluice_broker_parked')) === 1)).toBe(true);
      expect([await one('sluice_broker_failed_total'), await one('sluice_broker_dead_lettered_total'), await one('sluice_broker_dead_letter_refusals_total'), await one('sluice_broker_held_bytes')]).toEqual([1, 0, undefined, undefined]);
    } finally {
      prom.close();
      await consumer.stop();
      await r.del(stream, `${stream}:dead`);
      r.disconnect();
    }
  });
});
