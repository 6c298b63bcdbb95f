import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Counter } from 'prom-client';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { TokenBucket } from '../../src/rate/index.js';
import { Channel } from '../../src/queue/index.js';
import { customSignal, PressureMonitor } from '../../src/pressure/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import { series } from './helpers.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

describe('sluice/prometheus', () => {
  it('counts admissions, rejections by reason and releases by outcome; latency and queue wait in seconds', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ name: 'api', limit: 2, maxQueue: 1, clock });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates' });
    const a = permit(gate.admit());
    const b = permit(gate.admit());
    const waiting = gate.admit() as Promise<Admission>;
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'queue_full' });
    clock.advance(20);
    a.release('success'); // 20 ms; the waiter gets its slot after 20 ms in the queue
    const c = (await waiting) as Permit;
    clock.advance(300);
    b.release('failure'); // 320 ms
    expect(await series(registry, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="api",kind="concurrency"} 3']);
    expect(await series(registry, 'sluice_rejections_total')).toEqual(['sluice_rejections_total{gate="api",kind="concurrency",reason="queue_full"} 1']);
    expect(await series(registry, 'sluice_releases_total')).toEqual([
      'sluice_releases_total{gate="api",kind="concurrency",outcome="success"} 1',
      'sluice_releases_total{gate="api",kind="concurrency",outcome="failure"} 1',
    ]);
    const wait = await series(registry, 'sluice_queue_wait_seconds');
    expect(wait).toContain('sluice_queue_wait_seconds_bucket{le="0.01",gate="api",kind="concurrency"} 2');
    expect(wait).toContain('sluice_queue_wait_seconds_bucket{le="0.025",gate="api",kind="concurrency"} 3');
    expect(wait).toContain('sluice_queue_wait_seconds_sum{gate="api",kind="concurrency"} 0.02');
    expect(wait).toContain('sluice_queue_wait_seconds_count{gate="api",kind="concurrency"} 3');
    const latency = await series(registry, 'sluice_latency_seconds');
    expect(latency).toContain('sluice_latency_seconds_bucket{le="0.025",gate="api",kind="concurrency",outcome="success"} 1');
    expect(latency).toContain('sluice_latency_seconds_sum{gate="api",kind="concurrency",outcome="failure"} 0.32');
    expect(latency).toContain('sluice_latency_seconds_bucket{le="0.25",gate="api",kind="concurrency",outcome="failure"} 0');
    expect(latency).toContain('sluice_latency_seconds_bucket{le="0.5",gate="api",kind="concurrency",outcome="failure"} 1');
    // Gauges are read at scrape time.
    expect(await series(registry, 'sluice_in_flight')).toEqual(['sluice_in_flight{gate="api",kind="concurrency"} 1']);
    expect(await series(registry, 'sluice_queue_depth')).toEqual(['sluice_queue_depth{gate="api",kind="concurrency"} 0']);
    expect(await series(registry, 'sluice_limit')).toEqual(['sluice_limit{gate="api",kind="concurrency"} 2']);
    expect(await series(registry, 'sluice_tokens')).toEqual([]); // a concurrency gate has none
    c.release();
    expect(await series(registry, 'sluice_in_flight')).toEqual(['sluice_in_flight{gate="api",kind="concurrency"} 0']);
  });

  it('reads tokens, breaker state, pressure level and drops', async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket({ name: 'bucket', rate: 10, burst: 5, clock });
    const breaker = new CircuitBreaker({ name: 'upstream', rule: consecutiveFailures({ threshold: 1 }), openMs: 1_000, clock });
    const channel = new Channel<number>({ name: 'jobs', capacity: 1, overflow: 'drop-oldest', clock });
    let load = 0.5;
    const monitor = new PressureMonitor({ name: 'node', clock, signals: [customSignal({ name: 'load', read: () => load, slowAt: 0.6, rejectAt: 0.9 })] });
    const registry = new Registry();
    // events on the diagnostics channels (the default): process-wide, so closed with the test.
    const metrics = registerPrometheusMetrics({ registry, gates: () => [bucket, breaker, channel], monitors: [monitor], filter: (gate) => ['bucket', 'upstream', 'jobs'].includes(gate) });
    onTestFinished(() => metrics.close());
    permit(bucket.admit({ cost: 2 })).release();
    permit(breaker.admit()).release('failure'); // opens
    expect(breaker.admit()).toMatchObject({ ok: false, reason: 'circuit_open' });
    channel.tryPut(1);
    channel.tryPut(2); // drops 1
    channel.tryPut(3); // drops 2
    load = 0.95;
    monitor.sample();
    expect(await series(registry, 'sluice_tokens')).toEqual(['sluice_tokens{gate="bucket",kind="token-bucket"} 3']);
    expect(await series(registry, 'sluice_limit')).toEqual([
      'sluice_limit{gate="bucket",kind="token-bucket"} 5',
      'sluice_limit{gate="upstream",kind="circuit-breaker"} 0', // open: no call may go (closed: unlimited, left out)
      'sluice_limit{gate="jobs",kind="channel"} 1',
    ]);
    expect(await series(registry, 'sluice_breaker_state')).toEqual([
      'sluice_breaker_state{gate="upstream",state="closed"} 0',
      'sluice_breaker_state{gate="upstream",state="open"} 1',
      'sluice_breaker_state{gate="upstream",state="half-open"} 0',
      'sluice_breaker_state{gate="upstream",state="forced-open"} 0',
      'sluice_breaker_state{gate="upstream",state="disabled"} 0',
    ]);
    expect(await series(registry, 'sluice_rejections_total')).toEqual(['sluice_rejections_total{gate="upstream",kind="circuit-breaker",reason="circuit_open"} 1']);
    expect(await series(registry, 'sluice_drops_total')).toEqual(['sluice_drops_total{gate="jobs",kind="channel",policy="drop-oldest"} 2']);
    expect(await series(registry, 'sluice_queue_depth')).toContain('sluice_queue_depth{gate="jobs",kind="channel"} 1');
    expect(await series(registry, 'sluice_pressure_level')).toEqual([
      'sluice_pressure_level{monitor="node",level="ok"} 0',
      'sluice_pressure_level{monitor="node",level="slow"} 0',
      'sluice_pressure_level{monitor="node",level="reject"} 1',
    ]);
    expect(await series(registry, 'sluice_pressure_ratio')).toEqual(['sluice_pressure_ratio{monitor="node"} 1']);
  });

  it('bounds the tenant label: 10,000 distinct tenants make at most maxValues + 1 series', async () => {
    const gate = new ConcurrencyGate({ name: 'tenants', limit: 1, clock: new VirtualClock() });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates', tenantLabel: { maxValues: 100 } });
    for (let i = 0; i < 10_000; i++) {
      permit(gate.admit({ key: `tenant-${i}` })).release();
      permit(gate.admit({ key: 'tenant-0' })).release(); // a known tenant keeps its own series
    }
    permit(gate.admit()).release(); // no key
    const admissions = await series(registry, 'sluice_admissions_total');
    expect(admissions).toHaveLength(102); // 100 tenants, "other", and "" (no key)
    // The value is the key's stable short hash: a key may be a secret (keys: 'raw' for the key itself).
    expect(admissions).toContain(`sluice_admissions_total{gate="tenants",kind="concurrency",tenant="#${createHash('sha256').update('tenant-0').digest('hex').slice(0, 12)}"} 10001`);
    expect(admissions.some((s) => s.includes('tenant-'))).toBe(false);
    expect(admissions).toContain('sluice_admissions_total{gate="tenants",kind="concurrency",tenant="other"} 9900');
    expect(admissions).toContain('sluice_admissions_total{gate="tenants",kind="concurrency",tenant=""} 1');
    // Histograms and gauges never carry it.
    expect((await series(registry, 'sluice_queue_wait_seconds_count')).length).toBe(1);
  });

  it('the tenant label goes to the heaviest tenants by recent volume: one arriving late takes the place of the lightest, whose series goes', async () => {
    const gate = new ConcurrencyGate({ name: 'late', limit: 1, clock: new VirtualClock() });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates', tenantLabel: { maxValues: 3, keys: 'raw', clock: new VirtualClock() } });
    for (const key of ['a', 'b', 'b', 'c', 'c']) permit(gate.admit({ key })).release();
    for (let i = 0; i < 50; i++) permit(gate.admit({ key: 'heavy' })).release();
    // Before: first come, first kept — a, b and c kept their values, the heavy one was all 'other' (50).
    // Now: counted as 'other' until it has more than twice the lightest one's volume (a: 1), then labelled.
    expect(await series(registry, 'sluice_admissions_total')).toEqual([
      'sluice_admissions_total{gate="late",kind="concurrency",tenant="b"} 2',
      'sluice_admissions_total{gate="late",kind="concurrency",tenant="c"} 2',
      'sluice_admissions_total{gate="late",kind="concurrency",tenant="other"} 2',
      'sluice_admissions_total{gate="late",kind="concurrency",tenant="heavy"} 48',
    ]);
    permit(gate.admit({ key: 'a' })).release(); // replaced: counted as 'other' now
    expect(await series(registry, 'sluice_admissions_total')).toContain('sluice_admissions_total{gate="late",kind="concurrency",tenant="other"} 3');
  });

  it('recent volume: a tenant idle for two half-lives gives its place to one with a quarter of its old volume', async () => {
    const gate = new ConcurrencyGate({ name: 'decay', limit: 1, clock: new VirtualClock() });
    const clock = new VirtualClock();
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates', tenantLabel: { maxValues: 2, keys: 'raw', halfLifeMs: 60_000, clock } });
    for (let i = 0; i < 100; i++) for (const key of ['old1', 'old2']) permit(gate.admit({ key })).release();
    clock.advance(120_000); // scores 100 → 25
    for (let i = 0; i < 60; i++) permit(gate.admit({ key: 'new' })).release();
    // Promoted at its 51st event (more than twice 25): 50 as 'other', 10 under its own value; old1 went.
    expect(await series(registry, 'sluice_admissions_total')).toEqual([
      'sluice_admissions_total{gate="decay",kind="concurrency",tenant="old2"} 100',
      'sluice_admissions_total{gate="decay",kind="concurrency",tenant="other"} 50',
      'sluice_admissions_total{gate="decay",kind="concurrency",tenant="new"} 10',
    ]);
    expect(() => registerPrometheusMetrics({ registry: new Registry(), tenantLabel: { maxValues: 1, halfLifeMs: 10 } })).toThrow(/tenantLabel.halfLifeMs/);
  });

  it("tenantLabel.keys: 'raw' labels with the keys; an address is shown as it is either way", async () => {
    const gate = new ConcurrencyGate({ name: 'raw', limit: 1, clock: new VirtualClock() });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates', tenantLabel: { maxValues: 10, keys: 'raw' } });
    permit(gate.admit({ key: 'key:sk_1' })).release();
    permit(gate.admit({ key: 'ip:10.0.0.7' })).release();
    expect(await series(registry, 'sluice_admissions_total')).toEqual([
      'sluice_admissions_total{gate="raw",kind="concurrency",tenant="key:sk_1"} 1',
      'sluice_admissions_total{gate="raw",kind="concurrency",tenant="ip:10.0.0.7"} 1',
    ]);
    expect(() => registerPrometheusMetrics({ registry: new Registry(), tenantLabel: { maxValues: 1, keys: 'clear' as never } })).toThrow(/tenantLabel.keys/);
  });

  it('without a tenant option, there is no tenant label at all', async () => {
    const gate = new ConcurrencyGate({ name: 'plain', limit: 1, clock: new VirtualClock() });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates' });
    for (let i = 0; i < 50; i++) permit(gate.admit({ key: `t${i}` })).release();
    expect(await series(registry, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="plain",kind="concurrency"} 50']);
  });

  it("with events: 'channels' (the default), counts every gate in the process, including gates created later", async () => {
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, filter: (gate) => gate.startsWith('late-') });
    const gate = new ConcurrencyGate({ name: 'late-1', limit: 1, clock: new VirtualClock() });
    permit(gate.admit()).release();
    permit(new ConcurrencyGate({ name: 'ignored', limit: 1 }).admit()).release();
    expect(await series(registry, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="late-1",kind="concurrency"} 1']);
    // close() stops counting and removes the metrics.
    metrics.close();
    permit(gate.admit()).release();
    expect(await registry.metrics()).toBe('\n');
    const again = registerPrometheusMetrics({ registry, filter: (g) => g === 'late-1' }); // the names are free again
    permit(gate.admit()).release();
    expect(await series(registry, 'sluice_admissions_total')).toEqual(['sluice_admissions_total{gate="late-1",kind="concurrency"} 1']);
    again.close();
  });

  it('a storm of refusals costs prom-client one increment per series and read, not one per refusal; every read has them all', async () => {
    const gate = new ConcurrencyGate({ name: 'storm', limit: 1, maxQueue: 0, clock: new VirtualClock() });
    const registry = new Registry();
    registerPrometheusMetrics({ registry, gates: [gate], events: 'gates' });
    const counter = registry.getSingleMetric('sluice_rejections_total') as Counter;
    const inc = vi.spyOn(counter, 'inc');
    const held = permit(gate.admit());
    for (let i = 0; i < 1000; i++) expect(gate.admit()).toMatchObject({ ok: false, reason: 'concurrency' });
    // Told of the series once (its first refusal); the counts wait for a read.
    expect(inc.mock.calls.length).toBeLessThanOrEqual(1);
    expect(await series(registry, 'sluice_rejections_total')).toEqual(['sluice_rejections_total{gate="storm",kind="concurrency",reason="concurrency"} 1000']);
    expect(inc.mock.calls.length).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i++) expect(gate.admit()).toMatchObject({ ok: false });
    expect(await series(registry, 'sluice_rejections_total')).toEqual(['sluice_rejections_total{gate="storm",kind="concurrency",reason="concurrency"} 1005']);
    expect((await registry.getMetricsAsJSON()).find((m) => m.name === 'sluice_rejections_total')?.values).toEqual([{ labels: { gate: 'storm', kind: 'concurrency', reason: 'concurrency' }, value: 1005 }]);
    held.release();
  });

  it('rejects invalid or contradictory options', () => {
    const registry = new Registry();
    expect(() => registerPrometheusMetrics({ registry: {} as Registry })).toThrow(/registry/);
    expect(() => registerPrometheusMetrics({ registry, events: 'gates' })).toThrow(/gates: expected a non-empty array or a function when events is 'gates'/);
    expect(() => registerPrometheusMetrics({ registry, events: 'gates', gates: [] })).toThrow(InvalidOptionError);
    expect(() => registerPrometheusMetrics({ registry, events: 'gates', gates: [{ stats: () => new ConcurrencyGate({ name: 'x', limit: 1 }).stats() }] })).toThrow(/gates\[0\]: expected a gate with on\(\)/);
    expect(() => registerPrometheusMetrics({ registry, tenantLabel: { maxValues: 0 } })).toThrow(/tenantLabel.maxValues/);
    expect(() => registerPrometheusMetrics({ registry, latencyBuckets: [0.1, 0.05] })).toThrow(/latencyBuckets\[1\]/);
    expect(() => registerPrometheusMetrics({ registry, events: 'nope' as never })).toThrow(/events/);
  });
});
