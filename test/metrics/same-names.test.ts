// Gates of the same name in one process (two apps, two gateways): with events: 'gates' each
// adapter counts its own gates' events only; one adapter given two gates of the same name and
// kind refuses them, naming the duplicate; gates that come and go are listened to through a
// function and refresh().
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { registerOtelMetrics } from '../../src/otel/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import { series } from './helpers.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

const gate = (name: string, limit = 4): ConcurrencyGate => new ConcurrencyGate({ name, limit, clock: new VirtualClock() });

describe('gates of the same name in one process', () => {
  it("events: 'gates': two apps' registries each count their own gate named `api`, where the channels count both", async () => {
    const [apiA, apiB] = [gate('same-api'), gate('same-api')];
    const [regA, regB, regAll] = [new Registry(), new Registry(), new Registry()];
    const a = registerPrometheusMetrics({ registry: regA, gates: [apiA], events: 'gates' });
    const b = registerPrometheusMetrics({ registry: regB, gates: [apiB], events: 'gates' });
    const all = registerPrometheusMetrics({ registry: regAll, gates: [apiA], filter: (g) => g === 'same-api' }); // the default: channels
    try {
      for (let i = 0; i < 3; i++) permit(apiA.admit()).release();
      permit(apiB.admit()).release();
      expect(await series(regA, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="same-api",kind="concurrency"} 3']);
      expect(await series(regB, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="same-api",kind="concurrency"} 1']);
      expect(await series(regAll, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="same-api",kind="concurrency"} 4']);
    } finally {
      a.close();
      b.close();
      all.close();
    }
  });

  it('one adapter given two gates of the same name and kind: an error naming it (at the start for a list, at the scrape for a function)', async () => {
    const registry = new Registry();
    const twins = [gate('twin'), gate('twin')];
    expect(() => registerPrometheusMetrics({ registry, gates: twins })).toThrow(InvalidOptionError);
    expect(() => registerPrometheusMetrics({ registry, gates: twins, events: 'gates' })).toThrow(
      'gates: expected gates of distinct names (two concurrency gates are named "twin"; give each its own), received "twin"',
    );
    // Left out by the filter: no series, no clash.
    registerPrometheusMetrics({ registry, gates: twins, filter: (g) => g !== 'twin' }).close();
    // Other kinds are other series.
    const other = { stats: () => ({ ...twins[0]!.stats(), kind: 'channel' }) };
    registerPrometheusMetrics({ registry, gates: [twins[0]!, other] }).close();
    const list = [twins[0]!];
    const later = registerPrometheusMetrics({ registry, gates: () => list });
    try {
      list.push(twins[1]!);
      await expect(registry.metrics()).rejects.toThrow(/two concurrency gates are named "twin"/);
    } finally {
      later.close();
    }
  });

  it("events: 'gates' with a function: a gate that appears is counted from refresh(); one that is gone is let go once it holds nothing", async () => {
    const registry = new Registry();
    const first = gate('come-1');
    const next = gate('come-2');
    const live = [first];
    const metrics = registerPrometheusMetrics({ registry, gates: () => live, events: 'gates' });
    try {
      permit(first.admit()).release();
      const held = permit(first.admit());
      live.splice(0, 1, next); // come-1 is replaced, with a permit still out
      metrics.refresh();
      permit(next.admit()).release(); // before any scrape
      held.release(); // counted: come-1 held it when it was replaced
      expect(await series(registry, 'sluice_releases_total')).toEqual([
        'sluice_releases_total{gate="come-1",kind="concurrency",outcome="success"} 2',
        'sluice_releases_total{gate="come-2",kind="concurrency",outcome="success"} 1',
      ]);
      // That scrape found come-1 holding nothing and let it go: what it does now is not counted.
      permit(first.admit()).release();
      permit(next.admit()).release();
      expect(await series(registry, 'sluice_admissions_total')).toEqual([
        'sluice_admissions_total{gate="come-1",kind="concurrency"} 2',
        'sluice_admissions_total{gate="come-2",kind="concurrency"} 2',
      ]);
    } finally {
      metrics.close();
    }
    // Closed: no gate is listened to any more.
    permit(next.admit()).release();
    expect(await registry.metrics()).toBe('\n');
  });

  it('OpenTelemetry: the same, its own gates only, refreshed at each collection', async () => {
    const reader = new (class extends MetricReader {
      protected override onShutdown(): Promise<void> {
        return Promise.resolve();
      }
      protected override onForceFlush(): Promise<void> {
        return Promise.resolve();
      }
    })();
    const provider = new MeterProvider({ readers: [reader] });
    const [mine, theirs] = [gate('otel-api'), gate('otel-api')];
    const live: ConcurrencyGate[] = [];
    const metrics = registerOtelMetrics({ meter: provider.getMeter('test'), gates: () => live, events: 'gates' });
    live.push(mine);
    metrics.refresh();
    permit(mine.admit()).release();
    permit(theirs.admit()).release();
    permit(theirs.admit()).release();
    const { resourceMetrics } = await reader.collect();
    const admissions = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'sluice.admissions');
    expect(admissions?.dataPoints.map((p) => p.value)).toEqual([1]);
    metrics.close();
    await provider.shutdown();
  });
});
