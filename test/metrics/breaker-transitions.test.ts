// sluice_breaker_transitions_total: each state change of a breaker, counted as it happens. The
// state gauge is read at scrape time; a breaker that opened and closed between two scrapes left
// nothing there for an alert to count.
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import { series } from './helpers.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

const zero = (gate: string): string[] => ['closed', 'open', 'half-open', 'forced-open', 'disabled'].map((to) => `sluice_breaker_transitions_total{gate="${gate}",to="${to}"} 0`);

/** Open (one failure), wait out the open time, close with a good probe: all between two scrapes. */
function flap(breaker: CircuitBreaker, clock: VirtualClock): void {
  permit(breaker.admit()).release('failure');
  clock.advance(1_000);
  permit(breaker.admit()).release('success');
  expect(breaker.state).toBe('closed');
}

describe('sluice_breaker_transitions_total', () => {
  for (const events of ['gates', 'channels'] as const) {
    it(`counts an open and close between two scrapes that the state gauge never shows (events: ${events})`, async () => {
      const clock = new VirtualClock();
      const breaker = new CircuitBreaker({ name: `flaky-${events}`, rule: consecutiveFailures({ threshold: 1 }), openMs: 1_000, clock });
      const other = new CircuitBreaker({ name: `other-${events}`, rule: consecutiveFailures({ threshold: 1 }), clock });
      const registry = new Registry();
      const metrics = registerPrometheusMetrics({ registry, gates: () => [breaker, other], events, filter: (gate) => gate === breaker.name });
      onTestFinished(() => metrics.close());
      // Before any change: the series are there at 0, so increase() sees the first opening.
      expect(await series(registry, 'sluice_breaker_transitions_total')).toEqual(zero(breaker.name));
      flap(breaker, clock);
      flap(breaker, clock);
      permit(other.admit()).release('failure'); // filtered out
      expect(await series(registry, 'sluice_breaker_state')).toContain(`sluice_breaker_state{gate="${breaker.name}",state="closed"} 1`);
      expect(await series(registry, 'sluice_breaker_transitions_total')).toEqual([
        `sluice_breaker_transitions_total{gate="${breaker.name}",to="closed"} 2`,
        `sluice_breaker_transitions_total{gate="${breaker.name}",to="open"} 2`,
        `sluice_breaker_transitions_total{gate="${breaker.name}",to="half-open"} 2`,
        `sluice_breaker_transitions_total{gate="${breaker.name}",to="forced-open"} 0`,
        `sluice_breaker_transitions_total{gate="${breaker.name}",to="disabled"} 0`,
      ]);
    });
  }

  it('an open breaker whose open time ran out is half-open in the same scrape, gauge and counter alike', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ name: 'lazy', rule: consecutiveFailures({ threshold: 1 }), openMs: 1_000, clock });
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, gates: [breaker], events: 'gates' });
    onTestFinished(() => metrics.close());
    permit(breaker.admit()).release('failure');
    clock.advance(1_000); // nobody asks the breaker: the scrape is the first to read it
    const text = await registry.metrics();
    expect(text).toContain('sluice_breaker_state{gate="lazy",state="half-open"} 1');
    expect(text).toContain('sluice_breaker_transitions_total{gate="lazy",to="half-open"} 1');
  });

  it('a listener let go with its gate: a breaker the gates function no longer returns stops counting', async () => {
    const clock = new VirtualClock();
    let live = [new CircuitBreaker({ name: 'api', rule: consecutiveFailures({ threshold: 1 }), clock })];
    const old = live[0]!;
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, gates: () => live, events: 'gates' });
    onTestFinished(() => metrics.close());
    permit(old.admit()).release('failure');
    // A reload: a new breaker of the same name adds to the same series.
    live = [new CircuitBreaker({ name: 'api', rule: consecutiveFailures({ threshold: 1 }), clock })];
    metrics.refresh();
    permit(live[0]!.admit()).release('failure');
    old.trip(); // gone: not counted
    expect(await series(registry, 'sluice_breaker_transitions_total{gate="api",to="open"}')).toEqual(['sluice_breaker_transitions_total{gate="api",to="open"} 2']);
  });
});
