/**
 * Gate events → counter increments and histogram observations, for any metrics library. The
 * core stays metrics-free: this subscribes to the process-wide diagnostics channels (or to
 * the listed gates' listeners) and calls a {@link MetricSink}. Times become seconds here.
 */
import dc from 'node:diagnostics_channel';
import type { GateEvent } from '../core/index.js';
import type { CounterKey, HistogramKey, Labels } from './instruments.js';
import type { MetricsConfig } from './options.js';
import { SignalLatency } from './signal-latency.js';

/** What an adapter provides: increments and observations by instrument key. */
export interface MetricSink {
  inc(metric: CounterKey, labels: Labels, n: number): void;
  observe(metric: HistogramKey, labels: Labels, seconds: number): void;
}

const CHANNELS = ['sluice:admit', 'sluice:reject', 'sluice:release', 'sluice:drop'] as const;

/** Start recording; returns the function that stops it. */
export function recordEvents(c: MetricsConfig, sink: MetricSink): () => void {
  const stopEvents = recordGateEvents(c, sink);
  if (c.signalLatencyMs === undefined) return stopEvents;
  const tracker = new SignalLatency();
  const timer = setInterval(() => {
    const stats = [...c.gates()].map((g) => g.stats()).filter((s) => c.filter === undefined || c.filter(s.name, s.kind));
    for (const m of tracker.sample(stats, performance.now())) sink.observe('signalLatency', { gate: m.gate, kind: m.kind }, m.seconds);
  }, c.signalLatencyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopEvents();
  };
}

function recordGateEvents(c: MetricsConfig, sink: MetricSink): () => void {
  const record = (event: GateEvent): void => {
    if (c.filter !== undefined && !c.filter(event.gate, event.kind)) return;
    recordEvent(event, sink, c);
  };
  if (c.events === 'gates') {
    const offs = c.listed.map((g) => g.on!(record));
    return () => {
      for (const off of offs) off();
    };
  }
  const onMessage = (message: unknown): void => record(message as GateEvent);
  for (const name of CHANNELS) dc.subscribe(name, onMessage);
  return () => {
    for (const name of CHANNELS) dc.unsubscribe(name, onMessage);
  };
}

function recordEvent(e: GateEvent, sink: MetricSink, c: MetricsConfig): void {
  switch (e.type) {
    case 'admit': {
      sink.observe('queueWait', { gate: e.gate, kind: e.kind }, e.waitedMs / 1000);
      const labels: Labels = { gate: e.gate, kind: e.kind };
      if (c.tenant !== undefined) labels['tenant'] = c.tenant.of(e.key);
      sink.inc('admissions', labels, 1);
      return;
    }
    case 'reject': {
      const labels: Labels = { gate: e.gate, kind: e.kind, reason: e.reason };
      if (c.tenant !== undefined) labels['tenant'] = c.tenant.of(e.key);
      sink.inc('rejections', labels, 1);
      return;
    }
    case 'release': {
      const labels: Labels = { gate: e.gate, kind: e.kind, outcome: e.outcome };
      sink.inc('releases', labels, 1);
      // A breaker's unstamped permit (nobody listened when it was granted) has no latency.
      if (Number.isFinite(e.latencyMs)) sink.observe('latency', labels, e.latencyMs / 1000);
      return;
    }
    case 'drop':
      sink.inc('drops', { gate: e.gate, kind: e.kind, policy: e.policy }, e.count);
      return;
  }
}
