/**
 * Gate events → counter increments and histogram observations, for any metrics library. The
 * core stays metrics-free: this subscribes to the process-wide diagnostics channels (or to
 * the listed gates' listeners) and calls a {@link MetricSink}. Times become seconds here.
 */
import dc from 'node:diagnostics_channel';
import { breakerStateChannel } from '../breaker/index.js';
import type { BreakerStateChange } from '../breaker/index.js';
import { InvalidOptionError } from '../core/index.js';
import type { GateEvent, GateListener } from '../core/index.js';
import type { CounterKey, HistogramKey, Labels } from './instruments.js';
import { BreakerTransitions, isBreaker } from './breaker-transitions.js';
import type { MetricsConfig, StatsSource } from './options.js';
import { SignalLatency } from './signal-latency.js';

/** What an adapter provides: increments and observations by instrument key. */
export interface MetricSink {
  inc(metric: CounterKey, labels: Labels, n: number): void;
  observe(metric: HistogramKey, labels: Labels, seconds: number): void;
}

/** A recording: `refresh()` listens to gates `gates` returns now (events: 'gates'); `stop()` ends it. */
export interface EventRecording {
  refresh(): void;
  stop(): void;
}

const CHANNELS = ['sluice:admit', 'sluice:reject', 'sluice:release', 'sluice:drop'] as const;

/**
 * Start recording. The signal-latency sampler runs only while something happens: it stops
 * after a sample with no episode open and no gate event since the one before, and the next
 * gate event starts it again — an idle process is not woken every period to read gates that
 * cannot have changed (saturation, refusals and limit moves all come with events), and a
 * burst's onset is still seen at the first sample after it began, as before.
 */
export function recordEvents(c: MetricsConfig, sink: MetricSink): EventRecording {
  const periodMs = c.signalLatencyMs;
  if (periodMs === undefined) return recordGateEvents(c, sink);
  const tracker = new SignalLatency();
  let timer: NodeJS.Timeout | undefined;
  let eventSeen = false;
  let stopped = false;
  const tick = (): void => {
    const stats = [...c.gates()].map((g) => g.stats()).filter((s) => c.filter === undefined || c.filter(s.name, s.kind));
    for (const m of tracker.sample(stats, performance.now())) sink.observe('signalLatency', { gate: m.gate, kind: m.kind }, m.seconds);
    if (!eventSeen && tracker.open === 0) {
      clearInterval(timer);
      timer = undefined;
    }
    eventSeen = false;
  };
  const wake = (): void => {
    eventSeen = true;
    if (timer !== undefined || stopped) return;
    timer = setInterval(tick, periodMs);
    timer.unref();
  };
  const events = recordGateEvents(c, sink, wake);
  wake();
  return {
    refresh: () => events.refresh(),
    stop: () => {
      stopped = true;
      clearInterval(timer);
      events.stop();
    },
  };
}

/** `onEvent`: told of every gate event, before it is filtered. */
function recordGateEvents(c: MetricsConfig, sink: MetricSink, onEvent?: () => void): EventRecording {
  const record = (event: GateEvent): void => {
    onEvent?.();
    if (c.filter !== undefined && !c.filter(event.gate, event.kind)) return;
    recordEvent(event, sink, c);
  };
  const transitions = new BreakerTransitions(c, (metric, labels, n) => sink.inc(metric, labels, n));
  if (c.events === 'gates') {
    const listeners = new GateListeners(c, record, transitions);
    listeners.refresh();
    return listeners;
  }
  const onMessage = (message: unknown): void => record(message as GateEvent);
  const onBreaker = (message: unknown): void => transitions.record(message as BreakerStateChange);
  for (const name of CHANNELS) dc.subscribe(name, onMessage);
  breakerStateChannel.subscribe(onBreaker);
  return {
    // The breakers among `gates` (the gauges' list): their transition series start at 0.
    refresh: () => {
      for (const gate of c.gates()) if (isBreaker(gate)) transitions.start(gate);
    },
    stop: () => {
      for (const name of CHANNELS) dc.unsubscribe(name, onMessage);
      breakerStateChannel.unsubscribe(onBreaker);
    },
  };
}

/**
 * `events: 'gates'`: one listener on each gate `gates` returns, attached at the start and at
 * every refresh (each collection, and `refresh()`), so that the events counted are those of
 * this adapter's gates and no other's, whatever their names. A gate `gates` no longer returns
 * is let go at a refresh that finds it holding nothing (in flight, queued): its last releases
 * are counted, and a gate that is gone is not kept.
 */
class GateListeners implements EventRecording {
  readonly #c: MetricsConfig;
  readonly #record: GateListener;
  readonly #transitions: BreakerTransitions;
  readonly #offs = new Map<StatsSource, () => void>();
  #stopped = false;

  constructor(c: MetricsConfig, record: GateListener, transitions: BreakerTransitions) {
    this.#c = c;
    this.#record = record;
    this.#transitions = transitions;
  }

  refresh(): void {
    if (this.#stopped) return;
    const now = new Set(this.#c.gates());
    for (const gate of now) {
      if (this.#offs.has(gate)) continue;
      if (typeof gate.on !== 'function') throw new InvalidOptionError('gates', "gates with on() when events is 'gates'", gate);
      const off = gate.on(this.#record);
      if (!isBreaker(gate)) {
        this.#offs.set(gate, off);
        continue;
      }
      this.#transitions.start(gate);
      const offState = gate.onStateChange(this.#transitions.record);
      this.#offs.set(gate, () => {
        off();
        offState();
      });
    }
    if (now.size === this.#offs.size) return;
    for (const [gate, off] of this.#offs) {
      if (now.has(gate)) continue;
      const s = gate.stats();
      if (s.inFlight > 0 || s.queued > 0) continue;
      off();
      this.#offs.delete(gate);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const off of this.#offs.values()) off();
    this.#offs.clear();
  }
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
