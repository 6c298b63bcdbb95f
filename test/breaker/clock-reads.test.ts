// The breaker reads its clock only as much as its rule needs (a read costs about as much as
// the rest of a closed-state call), and always when someone listens.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { GateEvent } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import type { TripRule } from '../../src/breaker/index.js';

class CountingClock extends VirtualClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

function readsPerCall(rule: TripRule): number {
  const clock = new CountingClock();
  const b = new CircuitBreaker({ clock, rule });
  clock.reads = 0;
  for (let i = 0; i < 10; i++) {
    const a = b.admit();
    if (a.ok) a.release('success');
  }
  return clock.reads / 10;
}

describe('clock reads on the closed-state hot path', () => {
  it('none for a consecutive or plain count rule, one for a time window, two when durations matter', () => {
    expect(readsPerCall(consecutiveFailures())).toBe(0);
    expect(readsPerCall(countWindow())).toBe(0);
    expect(readsPerCall(timeWindow())).toBe(1);
    expect(readsPerCall(countWindow({ slowCallMs: 100 }))).toBe(2);
  });

  it('stamps every permit while someone listens, so latencies are real', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, rule: consecutiveFailures() });
    const events: GateEvent[] = [];
    b.on((e) => events.push(e));
    const a = b.admit();
    clock.advance(25);
    if (a.ok) a.release();
    expect(events).toMatchObject([{ type: 'admit', at: 0 }, { type: 'release', latencyMs: 25 }]);
  });
});
