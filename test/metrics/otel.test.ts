import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram as HistogramValue, MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { INSTRUMENTS, registerOtelMetrics } from '../../src/otel/index.js';

/** A reader collected by hand. */
class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

async function collect(reader: MetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, m);
  return out;
}

const points = (m: MetricData | undefined): { attributes: Record<string, unknown>; value: unknown }[] =>
  (m?.dataPoints as DataPoint<unknown>[] | undefined ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));

describe('sluice/otel', () => {
  it('records the same instruments: counters, histograms in seconds, observable gauges', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ name: 'api', limit: 2, clock });
    const breaker = new CircuitBreaker({ name: 'upstream', clock });
    const metrics = registerOtelMetrics({ meter: provider.getMeter('test'), gates: [gate, breaker], events: 'gates' });
    const a = permit(gate.admit());
    permit(gate.admit());
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'concurrency' });
    clock.advance(40);
    a.release('success');

    const m = await collect(reader);
    // Instruments with something to report (no drops, tokens or pressure here).
    const reported = ['admissions', 'rejections', 'releases', 'breakerTransitions', 'queueWait', 'latency', 'inFlight', 'queueDepth', 'limit', 'breakerState'] as const;
    expect([...m.keys()].sort()).toEqual(reported.map((k) => INSTRUMENTS[k].otel).sort());
    expect(points(m.get('sluice.admissions'))).toEqual([{ attributes: { gate: 'api', kind: 'concurrency' }, value: 2 }]);
    expect(points(m.get('sluice.rejections'))).toEqual([{ attributes: { gate: 'api', kind: 'concurrency', reason: 'concurrency' }, value: 1 }]);
    const latency = m.get('sluice.latency')!;
    expect(latency.descriptor.unit).toBe('s');
    const h = latency.dataPoints[0]!.value as HistogramValue;
    expect(h.buckets.boundaries).toEqual([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(h.sum).toBeCloseTo(0.04, 12);
    expect(h.count).toBe(1);
    expect(h.buckets.counts[5]).toBe(1); // (0.025, 0.05]
    expect(points(m.get('sluice.in_flight'))).toEqual([
      { attributes: { gate: 'api', kind: 'concurrency' }, value: 1 },
      { attributes: { gate: 'upstream', kind: 'circuit-breaker' }, value: 0 },
    ]);
    expect(points(m.get('sluice.limit'))).toEqual([{ attributes: { gate: 'api', kind: 'concurrency' }, value: 2 }]);
    expect(points(m.get('sluice.breaker.state')).filter((p) => p.value === 1)).toEqual([{ attributes: { gate: 'upstream', state: 'closed' }, value: 1 }]);

    // close(): the counters stop moving.
    metrics.close();
    permit(gate.admit());
    expect(points((await collect(reader)).get('sluice.admissions'))[0]!.value).toBe(2);
    await provider.shutdown();
  });

  it('bounds the tenant label under 10,000 distinct tenants', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const gate = new ConcurrencyGate({ name: 't', limit: 1, clock: new VirtualClock() });
    registerOtelMetrics({ meter: provider.getMeter('test'), gates: [gate], events: 'gates', tenantLabel: { maxValues: 50, overflow: 'rest' } });
    for (let i = 0; i < 10_000; i++) permit(gate.admit({ key: `tenant-${i}` })).release();
    const admissions = points((await collect(reader)).get('sluice.admissions'));
    expect(admissions).toHaveLength(51);
    expect(admissions).toContainEqual({ attributes: { gate: 't', kind: 'concurrency', tenant: 'rest' }, value: 9_950 });
    await provider.shutdown();
  });
});
