// Entry points that a black-box probe found answering bad input with a raw TypeError
// ("Cannot read properties of null") or taking an unknown option in silence: each now throws
// the option-error template (src/core/options.ts), naming what was wrong.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, brokerPublisher, LagMonitor } from '../../src/brokers/index.js';
import { compose, ComposedGate } from '../../src/compose/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { quickConfig } from '../../src/gateway/index.js';
import { OtelMetrics } from '../../src/otel/index.js';
import { PrometheusMetrics } from '../../src/prometheus/index.js';

const loose = <T>(v: unknown): T => v as T;

describe('metrics adapters refuse an unknown option key', () => {
  it('OtelMetrics names the key and lists the known ones', () => {
    expect(() => new OtelMetrics(loose({ prefx: 'x' }))).toThrow(InvalidOptionError);
    expect(() => new OtelMetrics(loose({ prefx: 'x' }))).toThrow(/^prefx: expected one of the OtelMetrics options: gates, monitors, .*, meter, received "x"$/);
  });
  it('PrometheusMetrics names the nearest key', () => {
    const registry = new Registry();
    expect(() => new PrometheusMetrics(loose({ registry, gate: [] }))).toThrow('gate: expected one of the PrometheusMetrics options (did you mean "gates"?), received an array of length 0');
    expect(registry.getMetricsAsArray()).toEqual([]);
  });
  it('checks the keys of signalLatency and tenantLabel too', () => {
    expect(() => new OtelMetrics(loose({ signalLatency: { intervalMS: 100 } }))).toThrow('signalLatency.intervalMS: expected one of the signalLatency options (did you mean "intervalMs"?), received 100');
    expect(() => new OtelMetrics(loose({ tenantLabel: { maxValues: 5, halfLife: 1000 } }))).toThrow('tenantLabel.halfLife: expected one of the tenantLabel options (did you mean "halfLifeMs"?), received 1000');
  });
  it('still takes every documented option', () => {
    const gate = new ConcurrencyGate({ name: 'probe-metrics', limit: 1 });
    const m = new PrometheusMetrics({ registry: new Registry(), gates: [gate], tenantLabel: { maxValues: 2, overflow: 'rest', halfLifeMs: 1000, keys: 'raw' }, signalLatency: { intervalMs: 100 } });
    m.close();
  });
});

describe('compose checks its gates', () => {
  it('compose(null) names the argument', () => {
    expect(() => compose(loose(null))).toThrow(InvalidArgumentError);
    expect(() => compose(loose(null))).toThrow('gates[0]: expected a gate (an object with name and admit()), received null');
  });
  it('a non-gate after a good one is named by its place', () => {
    const a = new ConcurrencyGate({ name: 'a', limit: 1 });
    expect(() => compose(a, loose(42))).toThrow('gates[1]: expected a gate (an object with name and admit()), received 42');
    expect(() => new ComposedGate({ gates: loose([a, {}]) })).toThrow(InvalidOptionError);
    expect(() => new ComposedGate({ gates: loose([null]) })).toThrow('gates[0]: expected a gate (an object with name and admit()), received null');
  });
});

describe('broker entry points check their source', () => {
  it('new LagMonitor(null) names the source', () => {
    expect(() => new LagMonitor(loose(null))).toThrow(InvalidArgumentError);
    expect(() => new LagMonitor(loose(null))).toThrow('source: expected a lag source (an object with name and lag(): a broker source), received null');
    expect(() => new LagMonitor(loose({ name: 'q' }))).toThrow(InvalidArgumentError);
  });
  it('brokerPublisher(null) names the source; a non-function onTake is named too', () => {
    expect(() => brokerPublisher(loose(null))).toThrow('source: expected a broker source (an object with name and pull()), received null');
    const source = { name: 'q', pull: () => Promise.resolve(), lag: () => Promise.resolve(0), close: () => Promise.resolve() };
    expect(() => brokerPublisher(source, loose('x'))).toThrow('onTake: expected a function, received "x"');
  });
  it('new BrokerConsumer(undefined, handler) names the source', () => {
    expect(() => new BrokerConsumer(loose(undefined), () => undefined)).toThrow('source: expected a broker source (an object with name and pull()), received undefined');
  });
});

describe('quickConfig refuses an unknown option key', () => {
  it('names the key and the nearest flag', () => {
    expect(() => quickConfig(loose({ upstream: 'http://127.0.0.1:1', queueTimout: '100ms' }))).toThrow(InvalidOptionError);
    expect(() => quickConfig(loose({ upstream: 'http://127.0.0.1:1', queueTimout: '100ms' }))).toThrow('queueTimout: expected one of the quickConfig options (did you mean "queueTimeout"?), received "100ms"');
  });
  it('lists them when none is near', () => {
    expect(() => quickConfig(loose({ upstream: 'http://127.0.0.1:1', prefx: 'x' }))).toThrow(/^prefx: expected one of the quickConfig options: upstream, port, host, .*, storeOnError, received "x"$/);
  });
  it('takes each of its options', () => {
    const all = { upstream: 'http://127.0.0.1:1', port: 1, host: 'h', adminPort: false, concurrency: 2, algorithm: 'vegas', queue: 1, queueTimeout: '1s', rate: '5/s', burst: 2, tenantHeader: 'x-t', timeout: '2s', drainTimeout: '3s', logLevel: 'warn', trustProxy: ['10.0.0.0/8'], workers: 2, store: 'redis://127.0.0.1:6379', storeOnError: 'open' } as const;
    expect(quickConfig(all).upstreams).toEqual({ upstream: { url: all.upstream, timeout: '2s' } });
  });
});
