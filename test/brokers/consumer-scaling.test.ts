import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConsumerScaling, LagMonitor } from '../../src/brokers/index.js';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';

/** A lag that the test sets, read on the monitor's virtual clock. */
function setup(replicas?: number) {
  const clock = new VirtualClock();
  let lag = 0;
  let processed = 0;
  const monitor = new LagMonitor({ name: 'queue "orders"', lag: () => Promise.resolve(lag) }, { intervalMs: 1000, clock, name: 'orders' });
  const scaling = new ConsumerScaling({ monitor, processed: () => processed, max: 10, drainSeconds: 10, ...(replicas !== undefined ? { replicas } : {}) });
  return {
    clock,
    monitor,
    scaling,
    set(l: number, p: number) {
      lag = l;
      processed = p;
    },
  };
}

describe('ConsumerScaling', () => {
  it('has no answer before two readings, then follows rate, growth and lag through desiredConsumers', async () => {
    const t = setup();
    t.set(1000, 0);
    await t.monitor.start();
    expect(t.scaling.desiredConsumers).toBeNaN();
    expect(t.scaling.lag).toBe(1000);
    t.set(1100, 50); // 50/s processed, the lag grew 100/s: 150/s arrive, + 1100/10 s to drain → ceil(260 / 50)
    await t.clock.tick(1000);
    expect(t.scaling.processedPerSec).toBe(50);
    expect(t.scaling.desiredConsumers).toBe(6);
    t.set(0, 2000); // drained, nothing arriving faster than processed: the minimum
    await t.clock.tick(1000);
    expect(t.scaling.desiredConsumers).toBe(1);
    t.monitor.stop();
  });

  it('takes the other replicas to run at this one rate', async () => {
    const t = setup(3);
    t.set(3000, 0);
    await t.monitor.start();
    t.set(3000, 100); // 100/s here, 300/s for the group; the lag holds: 300/s arrive + 300/s to drain → ceil(600 / 100)
    await t.clock.tick(1000);
    expect(t.scaling.processedPerSec).toBe(300);
    expect(t.scaling.desiredConsumers).toBe(6);
    t.monitor.stop();
  });

  it('is read by the metrics adapters: sluice_broker_lag and sluice_broker_desired_consumers, by source', async () => {
    const t = setup();
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, brokers: [t.scaling] });
    let page = await registry.metrics();
    expect(page).toMatch(/^# TYPE sluice_broker_lag gauge$/m);
    expect(page).not.toMatch(/^sluice_broker_lag\{/m); // not read yet: left out, not 0
    t.set(500, 0);
    await t.monitor.start();
    t.set(400, 200);
    await t.clock.tick(1000);
    page = await registry.metrics();
    expect(page).toMatch(/^sluice_broker_lag\{source="orders"\} 400$/m);
    expect(page).toMatch(/^sluice_broker_desired_consumers\{source="orders"\} 1$/m); // 100/s arrive + 40/s to drain < 200/s
    metrics.close();
    t.monitor.stop();
  });

  it('names a bad option', () => {
    const monitor = new LagMonitor({ name: 'q', lag: () => Promise.resolve(0) });
    expect(() => new ConsumerScaling({ monitor, processed: () => 0, max: 0 })).toThrow(InvalidOptionError);
    expect(() => new ConsumerScaling({ monitor, processed: () => 0, max: 4, min: 5 })).toThrow(/max: expected an integer >= 5/);
    expect(() => new ConsumerScaling({ monitor, processed: 3 as unknown as () => number, max: 4 })).toThrow(/processed/);
    expect(() => new LagMonitor({ name: 'q', lag: () => Promise.resolve(0) }, { name: '' })).toThrow(/name/);
  });
});
